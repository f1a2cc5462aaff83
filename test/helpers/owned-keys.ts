// Keys that a given node owns, found by asking a ring (a PeerSet, or anything with owner(key)).

/** Ring is what finding owned keys needs: the owner of a key. */
export interface Ring {
  owner(key: string): string | undefined;
}

/** MAX_TRIES bounds the search: a node that owns none of this many keys is not on the ring. */
const MAX_TRIES = 100_000;

/** keysOwnedBy returns the first n keys `${prefix}${i}` (i = 0, 1, ...) that ring gives to owner. */
export function keysOwnedBy(ring: Ring, owner: string, n: number, prefix = "key"): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < n && i < MAX_TRIES; i++)
    if (ring.owner(`${prefix}${i}`) === owner) keys.push(`${prefix}${i}`);
  if (keys.length < n) throw new Error(`only ${keys.length} of ${MAX_TRIES} keys ${prefix}<i> are owned by ${owner}`);
  return keys;
}

/** keyOwnedBy returns the first key `${prefix}${i}` that ring gives to owner. */
export function keyOwnedBy(ring: Ring, owner: string, prefix = "key"): string {
  return keysOwnedBy(ring, owner, 1, prefix)[0]!;
}
