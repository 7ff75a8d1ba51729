/*
** hash.c -- one 64-bit hash of a byte string, for every use cnsearch has.
**
** Three things hash strings: the walk hashes every note's path (with its
** size and mtime) into its folder's brief (scan.c), the link table keys
** its index by a hash of each link's target (links.c), and the printer
** finds repeated paths through a hash table (print.c).  None of them
** faces an adversary; they want speed and well-spread bits.  So the
** bytes are taken eight at a time and each word is folded in with the
** splitmix64 finalizer, whose output bits all depend on all input bits;
** the length goes in first, so strings that differ only by trailing
** zero bytes differ.  The walk hashes 43k paths on every search of a
** 200 MB tree, which byte-at-a-time FNV would make a few ms slower.
**
** The values are stored in the index (table folder, link.thash): a change
** here changes what an index means, and must bump STORE_SCHEMA_VERSION.
*/
#include <string.h>
#include "cnsint.h"

uint64_t cns_hash_mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t cns_hash(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = cns_hash_mix(n), w;
  for (; n >= 8; n -= 8, p += 8) {
    memcpy(&w, p, 8);
    h = cns_hash_mix(h ^ w);
  }
  w = 0;
  memcpy(&w, p, n);
  return cns_hash_mix(h ^ w ^ (uint64_t)n << 56);
}
