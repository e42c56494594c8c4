import path from 'node:path';
import { writeDevCert } from '../shared/dev-cert.js';

/** `npm run cert:dev [dir]`: a self-signed pair for local HTTPS (default under .data/tls). */
const dir = process.argv[2] ?? path.join('.data', 'tls');
const { certFile, keyFile } = await writeDevCert(dir);
console.log(`wrote ${certFile} and ${keyFile}\nstart with: TLS_CERT_FILE=${certFile} TLS_KEY_FILE=${keyFile} npm start`);
