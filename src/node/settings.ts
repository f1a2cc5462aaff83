import { DEFAULT_MAX_BATCH_KEYS, DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from "../core/limits.ts";
import { bool, bytes, duration, int, pemFile, port, type Setting, secret, text, yesNo } from "../core/settings.ts";
import { formatDuration, sizeText } from "../core/units.ts";
import { DEFAULT_PROTECTED_MODE } from "./protected-mode.ts";
import { DEFAULT_API_PORT, DEFAULT_HOST, DEFAULT_PORT } from "./server.ts";
import { DEFAULT_DRAIN, DEFAULT_HANDOVER_BYTES } from "./shutdown.ts";

/** NODE_SETTINGS are where a node listens, what its API accepts, and how it stops. */
export const NODE_SETTINGS: readonly Setting[] = [
  {
    name: "port",
    help: "Port of the node: peer routes and API (0 picks a free port)",
    fallback: String(DEFAULT_PORT),
    hint: "8001",
    parse: port,
  },
  {
    name: "host",
    help: "Address to listen on (0.0.0.0 for every interface)",
    fallback: DEFAULT_HOST,
    parse: text(true),
  },
  {
    name: "api",
    help: "Also serve the API on --api-port (the peer port can then stay private)",
    flag: true,
    fallback: "false",
    parse: bool,
  },
  {
    name: "api-port",
    help: "Port of the API listener opened by --api",
    fallback: String(DEFAULT_API_PORT),
    parse: port,
  },
  {
    name: "drain",
    help:
      "On SIGTERM, answer /readyz 503 but keep serving this long before stopping, so peers and load " +
      "balancers drop the node",
    fallback: formatDuration(DEFAULT_DRAIN),
    parse: duration(),
  },
  {
    name: "handover-bytes",
    help:
      "On SIGTERM with peers, a node hands the values it owns (most valuable first) to their new owners " +
      "during the drain, up to this many bytes",
    fallback: sizeText(DEFAULT_HANDOVER_BYTES),
    parse: bytes(),
  },
  {
    name: "max-key-bytes",
    help: "Longest key the API accepts, in bytes",
    fallback: sizeText(DEFAULT_MAX_KEY_BYTES),
    parse: bytes(1, "4KiB"),
  },
  {
    name: "max-value-bytes",
    help: "Largest value a PUT may write, in bytes or 512KiB, 1MiB",
    fallback: sizeText(DEFAULT_MAX_VALUE_BYTES),
    parse: bytes(1, "1MiB"),
  },
  {
    name: "max-batch-keys",
    help: "Most keys one POST /api/batch may ask for",
    fallback: String(DEFAULT_MAX_BATCH_KEYS),
    parse: int(1, 1_000_000),
  },
  {
    name: "api-token",
    help: "Bearer token that PUT and DELETE on /api require",
    fallbackHelp: "none, writes open",
    hint: "secret",
    parse: secret,
    secret: true,
  },
  {
    name: "api-read-token",
    help: "Bearer token that GET on /api requires",
    fallbackHelp: "none, reads open",
    hint: "secret",
    parse: secret,
    secret: true,
  },
  {
    name: "protected-mode",
    help:
      "On a --host other hosts reach, refuse their writes (without --api-token) and peer requests (without " +
      "--token) with 403; reads stay open",
    fallback: DEFAULT_PROTECTED_MODE ? "yes" : "no",
    hint: "yes|no",
    parse: yesNo,
  },
  {
    name: "tls-cert",
    help: "PEM certificate (chain) file: serve https on every port (needs --tls-key)",
    hint: "cert.pem",
    parse: pemFile,
  },
  { name: "tls-key", help: "PEM private key file for --tls-cert", hint: "key.pem", parse: pemFile },
  {
    name: "tls-ca",
    help: "PEM file of the CA that signed the peers' certificates (for https:// peers with a private CA)",
    hint: "ca.pem",
    parse: pemFile,
  },
  {
    name: "metrics",
    help: "Serve Prometheus metrics on /metrics and time every request; --no-metrics turns both off",
    flag: true,
    fallback: "true",
    parse: bool,
  },
];
