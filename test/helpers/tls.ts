// A private CA and a server certificate for 127.0.0.1 / localhost, made with openssl for one test run.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** OPENSSL is the openssl binary the certificates are made with. */
export const OPENSSL = Bun.which("openssl") ?? "/usr/bin/openssl";

/** TestCerts are PEM texts and the files they were written to; dispose removes the files. */
export interface TestCerts extends Disposable {
  dir: string;
  /** ca is the CA certificate that signed cert. */
  ca: string;
  cert: string;
  key: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** hasOpenssl tells whether the certificates can be made on this machine. */
export function hasOpenssl(): boolean {
  return existsSync(OPENSSL);
}

/**
 * makeCerts makes a CA and a server certificate (subjectAltName IP:127.0.0.1, DNS:localhost) signed by it, valid for a
 * day.
 */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "geecache-tls-"));
  const openssl = (...args: string[]) => {
    const r = Bun.spawnSync([OPENSSL, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0)
      throw new Error(`openssl ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=geecache test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl("req", ...ec, "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=localhost");
  writeFileSync(
    join(dir, "ext.cnf"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    "node.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "node.pem",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
  );
  const caPath = join(dir, "ca.pem");
  const certPath = join(dir, "node.pem");
  const keyPath = join(dir, "node.key");
  return {
    dir,
    ca: readFileSync(caPath, "utf8"),
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    caPath,
    certPath,
    keyPath,
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}
