/**
 * Interface facts the takeover path needs (index, MAC), cached: looking them up costs a
 * netlink round trip or a socket and an ioctl, and a takeover does it for every VIP and
 * every GARP — enough to push the first GARP past 1 ms after the advert. Any link event
 * (an interface created, deleted, renamed or re-addressed) clears the cache.
 */
const cache = new Map<string, unknown>();

export function cached<T>(kind: string, ifname: string, read: () => T): T {
  const key = `${kind}\u0000${ifname}`;
  if (cache.has(key)) return cache.get(key) as T;
  const v = read();
  if (v !== undefined) cache.set(key, v);
  return v;
}

export function forgetInterfaces(): void {
  cache.clear();
}
