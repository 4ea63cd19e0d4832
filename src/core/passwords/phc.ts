/**
 * PHC string format (https://github.com/P-H-C/phc-string-format):
 * `$<id>[$v=<version>][$<param>=<value>(,<param>=<value>)*]$<salt>$<hash>`, with salt and hash in
 * standard base64 without padding. Storing parameters beside the hash is what lets them be
 * raised later: `needsRehash` reads them back.
 */
export interface PhcHash {
  id: string;
  version?: number;
  params: Record<string, number>;
  salt: Buffer;
  hash: Buffer;
}

const ID = /^[a-z0-9-]{1,32}$/;
const PARAM = /^([a-z0-9-]{1,32})=(\d{1,10})$/;
const B64 = /^[A-Za-z0-9+/]{1,1024}$/;

/** Null for anything that is not a PHC string with numeric parameters, a salt and a hash. */
export function parsePhc(text: string): PhcHash | null {
  const fields = text.split('$');
  if (fields[0] !== '' || fields.length < 4 || fields.length > 6 || !ID.test(fields[1])) return null;
  const [, id, ...rest] = fields;
  let version: number | undefined;
  if (rest.length > 0 && rest[0].startsWith('v=')) {
    const match = PARAM.exec(rest.shift()!);
    if (!match) return null;
    version = Number(match[2]);
  }
  if (rest.length !== 3) return null;
  const [paramText, saltText, hashText] = rest;
  const params: Record<string, number> = {};
  for (const pair of paramText.split(',')) {
    const match = PARAM.exec(pair);
    if (!match || match[1] in params) return null;
    params[match[1]] = Number(match[2]);
  }
  if (!B64.test(saltText) || !B64.test(hashText)) return null;
  return { id, version, params, salt: Buffer.from(saltText, 'base64'), hash: Buffer.from(hashText, 'base64') };
}

export function formatPhc(phc: PhcHash): string {
  const params = Object.entries(phc.params)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  const version = phc.version === undefined ? '' : `$v=${phc.version}`;
  return `$${phc.id}${version}$${params}$${unpadded(phc.salt)}$${unpadded(phc.hash)}`;
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
