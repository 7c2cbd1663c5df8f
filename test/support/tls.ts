// A throwaway CA with a server certificate for 127.0.0.1 and a client
// certificate, made with openssl in a temporary directory, for TLS tests.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface TestPki {
  dir: string
  caFile: string
  serverCert: string
  serverKey: string
  ca: Buffer
  clientCert: Buffer
  clientKey: Buffer
  remove(): void
}

export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-pki-'))
  const file = (name: string) => path.join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=vip-announcer test CA')
  const issue = (name: string, extensions: string) => {
    fs.writeFileSync(file(`${name}.ext`), extensions)
    openssl('req', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`)
    openssl(
      'x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-out', file(`${name}.crt`), '-days', '1', '-extfile', file(`${name}.ext`),
    )
  }
  issue('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n')
  issue('client', 'extendedKeyUsage=clientAuth\n')
  return {
    dir,
    caFile: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    ca: fs.readFileSync(file('ca.crt')),
    clientCert: fs.readFileSync(file('client.crt')),
    clientKey: fs.readFileSync(file('client.key')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  }
}
