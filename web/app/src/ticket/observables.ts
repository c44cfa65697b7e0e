// Client-side checks of an observable's value by kind (the server checks too).
import type { ObservableKind } from '../gql/graphql';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIp(v: string): boolean {
  if (IPV4.test(v)) return true;
  if (!v.includes(':') || !/^[0-9a-fA-F:.]+$/.test(v)) return false;
  try {
    new URL(`http://[${v}]/`);
    return true;
  } catch {
    return false;
  }
}

export function validObservable(kind: ObservableKind, raw: string): boolean {
  const v = raw.trim();
  if (!v) return false;
  switch (kind) {
    case 'IP':
      return isIp(v);
    case 'DOMAIN':
      return /^(?=.{1,253}$)(?!-)([a-zA-Z0-9-]{1,63}(?<!-)\.)+[a-zA-Z]{2,63}\.?$/.test(v);
    case 'URL':
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    case 'FILE_HASH':
      return /^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64})$/.test(v);
    case 'USER_ACCOUNT':
      return v.length <= 256 && !/\s/.test(v);
  }
}
