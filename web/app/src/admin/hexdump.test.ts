import { describe, expect, it } from 'vitest';
import { decodeBase64, hexDump, hexLines } from './hexdump';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('hex dump', () => {
  it('writes offset, 16 bytes in two groups of 8 and their printable ASCII', () => {
    expect(hexDump(bytes('<999>broken 0123'))).toBe('00000000  3c 39 39 39 3e 62 72 6f  6b 65 6e 20 30 31 32 33  |<999>broken 0123|');
  });

  it('pads a short last line so the ASCII column stays aligned', () => {
    const dump = hexDump(bytes('<13>1 2026-13-45T00:00:00Z\u0001')).split('\n');
    expect(dump).toHaveLength(2);
    expect(dump[1]).toBe(`00000010  54 30 30 3a 30 30 3a 30  30 5a 01${' '.repeat(17)}|T00:00:00Z.|`);
    expect(dump[0].indexOf('|')).toBe(dump[1].indexOf('|'));
  });

  it('shows control and non-ASCII bytes as dots, and nothing for no bytes', () => {
    expect(hexLines(new Uint8Array([0, 0x1f, 0x7f, 0x80, 0xff, 0x41]))[0]).toEqual({
      offset: '00000000',
      hex: '00 1f 7f 80 ff 41',
      ascii: '.....A',
    });
    expect(hexDump(new Uint8Array())).toBe('');
  });

  it('counts offsets in hex', () => {
    const lines = hexLines(new Uint8Array(40));
    expect(lines.map((l) => l.offset)).toEqual(['00000000', '00000010', '00000020']);
  });

  it('decodes the server’s base64, bytes that are not UTF-8 included', () => {
    expect([...decodeBase64('PDk5OT5oZWxsbw==')]).toEqual([...bytes('<999>hello')]);
    expect([...decodeBase64('//4A')]).toEqual([0xff, 0xfe, 0x00]);
  });
});
