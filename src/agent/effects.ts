/**
 * Effects: what each core action does in the world. Adverts are encoded here (the IPv4
 * header too: keepalived sends with IP_HDRINCL, TOS 0xC0) and handed to the instance's
 * socket; addresses, GARP and scripts go through the instance's io.
 */
import { encodeAdvert, encodeIpv4Header } from "../core/vrrp/advert.ts";
import type { Action } from "../core/vrrp/types.ts";
import type { AgentPort, Running } from "./running.ts";

const IPV4_HEADER = 20;
/** Largest advert: IPv4 header + 8 + 255 × 16 (v3 IPv6 addresses) + 8 auth, rounded up. */
const buffer = new Uint8Array(IPV4_HEADER + 8 + 255 * 16 + 16);

export function perform(agent: AgentPort, r: Running, a: Action): void {
  const name = r.plan.name;
  switch (a.type) {
    case "send-advert":
      sendAdvert(r, a.priority);
      if (a.lateMs !== undefined) agent.observer?.advertLateness(a.lateMs);
      return;
    case "add-vips":
      r.io.addVips();
      agent.log.debug(`(${name}) addresses added: ${r.plan.vips.map((v) => v.address).join(", ")}`);
      return;
    case "remove-vips":
      r.io.removeVips();
      agent.log.debug(`(${name}) addresses removed`);
      return;
    case "garp":
      r.io.garp(a.repeat);
      return;
    case "transition":
      // keepalived's wording, which operators already grep for (reference §3.7).
      agent.log.info(`(${name}) Entering ${a.to} STATE (${a.reason})`);
      agent.observer?.transition(name, a.from, a.to);
      return;
    case "notify":
      agent.notifyInstance(r, a.state);
      return;
    case "notify-master-rx-lower-pri":
      agent.log.info(
        `(${name}) Received advert from ${a.from} with lower priority ${a.priority}, ours ${r.state.effectivePriority}, forcing new election`,
      );
      agent.hooks?.rxLowerPri(name, r.state.effectivePriority);
      return;
    case "mark":
      agent.log.debug(`(${name}) ${a.what}`);
      return;
  }
}

/** One advert per destination (each unicast peer, or the group), checksum per destination. */
function sendAdvert(r: Running, priority: number): void {
  const p = r.plan;
  const out = {
    version: p.params.version,
    vrid: p.params.vrid,
    priority,
    addresses: p.vipAddrs,
    ...(p.params.version === 2
      ? {
          authType: p.authType,
          advertIntervalS: p.params.advertIntervalCs / 100,
          ...(p.authData ? { authData: p.authData } : {}),
        }
      : { maxAdvertIntervalCs: p.params.advertIntervalCs }),
  };
  for (const dst of p.destinations) {
    const ctx = {
      family: p.family,
      src: p.source,
      dst,
      ...(p.rx.checksumAsV2 ? { checksumAsV2: true } : {}),
    };
    if (p.family === 4) {
      const n = encodeAdvert(buffer, IPV4_HEADER, out, ctx);
      encodeIpv4Header(buffer, 0, {
        src: p.source,
        dst,
        ttl: p.unicast ? p.ttl : 255,
        tos: 0xc0,
        id: 0,
        payloadLength: n,
      });
      r.io.send(buffer.subarray(0, IPV4_HEADER + n), dst);
    } else {
      const n = encodeAdvert(buffer, 0, out, ctx);
      r.io.send(buffer.subarray(0, n), dst);
    }
  }
}
