// Splitting one CSV line into fields: plain split when unquoted, RFC 4180 quotes otherwise.

export function splitCsv(line: string, sep = ','): string[] {
  if (line.indexOf('"') === -1) return line.split(sep);
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Index of each wanted column in a header line, by any of its accepted names. */
export function columnIndex(
  header: string[],
  names: Record<string, string[]>,
): Record<string, number> | string {
  const norm = header.map((h) =>
    h
      .trim()
      .replace(/^\uFEFF/, '')
      .toLowerCase(),
  );
  const idx: Record<string, number> = {};
  for (const [key, aliases] of Object.entries(names)) {
    const lower = new Set(aliases.map((a) => a.toLowerCase()));
    const i = norm.findIndex((h) => lower.has(h));
    if (i === -1) return `no column ${aliases.join(' or ')} in header "${header.join(',')}"`;
    idx[key] = i;
  }
  return idx;
}
