/** Where and how the device's link connects, whichever broker back-end provided it. */
export interface BrokerEndpoint {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly clientId: string;
  readonly protocolVersion: 'auto' | 4 | 5;
  readonly ca?: Buffer;
  readonly insecureTls?: boolean;
}

/** A running broker back-end (or none, for an external one): what the link needs, and how to stop it. */
export interface BrokerHandle {
  readonly endpoint: BrokerEndpoint;
  /** Listening ports of an embedded broker, for stats and for the phone's settings. */
  readonly ports?: { readonly tcp: number; readonly ws: number };
  stop(): Promise<void>;
}
