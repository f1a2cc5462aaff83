import type { Setting } from "../core/settings.ts";
import type { PeerTransport } from "./transport.ts";

/** TransportOptions are a node's settings by option name (camelCase of the flag), as a transport module reads them. */
export type TransportOptions = Readonly<Record<string, unknown>>;

/** TransportContext is what every transport of a node shares: the peer settings and this process's boot id. */
export interface TransportContext {
  /** timeout bounds one peer request in ms. */
  timeout: number;
  token?: string;
  maxValueBytes: number;
  /** tlsCa is the PEM CA trusted when speaking to peers over TLS. */
  tlsCa?: string;
  bootId: string;
  /** refused is told of each peer request refused for its token (logged a few at a time). */
  refused?: (what: string) => void;
}

/**
 * TransportModule is one peer protocol a node can speak: the URL schemes it accepts (plain, then
 * over TLS), the settings it adds, whether the options turn it on, and how to build it. A transport
 * that answers peers on a listener of its own says which port (ownPort); the others answer on the
 * node's HTTP listener. A new transport is a module and a line in the node's list.
 */
export interface TransportModule {
  readonly name: string;
  /** label names it for people (logs): "gRPC"; default name. */
  readonly label?: string;
  readonly schemes: readonly [plain: string, tls: string];
  readonly settings: readonly Setting[];
  /** enabled tells whether the options turn this transport on (default: always); its first setting turns it on. */
  enabled?(options: TransportOptions): boolean;
  /** ownPort is the port of the transport's own listener, when it has one. */
  ownPort?(options: TransportOptions): number | undefined;
  create(options: TransportOptions, context: TransportContext): PeerTransport;
}

/** schemeOf is the scheme of a peer URL without its colon: grpcs://h:1 -> grpcs. */
export function schemeOf(url: string): string {
  return url.slice(0, Math.max(0, url.indexOf(":")));
}

/** transportFor finds the module that speaks to url, by scheme. */
export function transportFor(modules: readonly TransportModule[], url: string): TransportModule | undefined {
  const scheme = schemeOf(url);
  return modules.find((m) => m.schemes.includes(scheme));
}
