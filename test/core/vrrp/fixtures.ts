/** Instance parameters and adverts for core tests. */
import { type IpAddr, parseIp } from "../../../src/core/net/ip.ts";
import type { AdvertIn, InstanceParams } from "../../../src/core/vrrp/types.ts";

export function ip(s: string): IpAddr {
  const a = parseIp(s);
  if (!a) throw new Error(`bad test address ${s}`);
  return a;
}

export function params(over: Partial<InstanceParams> = {}): InstanceParams {
  return {
    name: "VI_1",
    vrid: 51,
    version: 2,
    family: 4,
    basePriority: 100,
    advertIntervalCs: 100,
    wantMaster: false,
    nopreempt: false,
    preemptDelayMs: 0,
    downTimerAdverts: 3,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    localAddress: ip("192.0.2.11"),
    garp: {
      masterDelayMs: 5000,
      masterRepeat: 5,
      masterRefreshMs: 0,
      masterRefreshRepeat: 1,
      lowerPrioDelayMs: 5000,
      lowerPrioRepeat: 5,
    },
    ...over,
  };
}

export function advert(src: string, priority: number, advertIntervalCs = 100): AdvertIn {
  return { src: ip(src), srcText: src, priority, advertIntervalCs };
}
