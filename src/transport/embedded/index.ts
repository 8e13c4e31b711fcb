// The embedded transport's public surface.

export { type EmbeddedOptions, EmbeddedTransport, openEmbeddedTransport } from './transport.ts';
