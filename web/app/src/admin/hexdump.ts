// A dead letter's raw bytes as a classic hex dump: offset, 16 bytes in hex
// (a gap after the eighth), the printable ASCII of those bytes ('.' for the rest).

export interface HexLine {
  offset: string;
  hex: string;
  ascii: string;
}

export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hexLines(bytes: Uint8Array, width = 16): HexLine[] {
  const lines: HexLine[] = [];
  for (let off = 0; off < bytes.length; off += width) {
    const chunk = bytes.subarray(off, off + width);
    const cells: string[] = [];
    for (let i = 0; i < width; i++) {
      cells.push(i < chunk.length ? chunk[i].toString(16).padStart(2, '0') : '  ');
      if (i === width / 2 - 1) cells.push('');
    }
    let ascii = '';
    for (const b of chunk) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    lines.push({ offset: off.toString(16).padStart(8, '0'), hex: cells.join(' ').trimEnd(), ascii });
  }
  return lines;
}

/** The dump as text, one line per row: `00000000  3c 31 …  |<1…|`. */
export function hexDump(bytes: Uint8Array, width = 16): string {
  const hexWidth = width * 3; // the gap's extra space included, the trailing one not
  return hexLines(bytes, width)
    .map((l) => `${l.offset}  ${l.hex.padEnd(hexWidth)}  |${l.ascii}|`)
    .join('\n');
}
