// Safe by default: loopback unless told otherwise, a token for anything else, strict headers, read only.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LakestreamError } from '../errors.ts';

export const TOKEN_COOKIE = 'lakestream_token';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The rule: a non-loopback --host needs a token (flag or LAKESTREAM_TOKEN), else refuse to start.
 * A token on loopback is allowed and enforced too.
 */
export function checkBindPolicy(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < 8)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      'the token must be at least 8 characters (--token or LAKESTREAM_TOKEN)',
    );
  if (!isLoopback(host) && token === undefined)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `refusing to listen on ${host} without a token: anyone who can reach it could read the lake. ` +
        'Pass --token T or set LAKESTREAM_TOKEN, or bind to 127.0.0.1.',
    );
}

/** Headers on every response: no framing, no sniffing, scripts and styles only from this server. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares in constant time (over digests, so lengths do not leak either). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export type AuthOutcome = 'ok' | 'denied' | { setCookieAndRedirect: string };

/**
 * A request is authorised by `Authorization: Bearer T`, the cookie, or (for opening the dashboard
 * from a link) `?token=T`, which sets the cookie and redirects to the same URL without the token.
 */
export function authorize(req: IncomingMessage, url: URL, token: string | undefined): AuthOutcome {
  if (token === undefined) return 'ok';
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && tokenMatches(auth.slice(7), token)) return 'ok';
  if (tokenMatches(cookieValue(req, TOKEN_COOKIE), token)) return 'ok';
  const q = url.searchParams.get('token');
  if (q !== null && tokenMatches(q, token) && (req.method === 'GET' || req.method === 'HEAD')) {
    const clean = new URL(url);
    clean.searchParams.delete('token');
    return { setCookieAndRedirect: clean.pathname + clean.search };
  }
  return 'denied';
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * DNS rebinding: a page on evil.example resolving to 127.0.0.1 would send Host: evil.example.
 * On loopback (no token) only loopback Host headers are served.
 */
export function hostAllowed(req: IncomingMessage, bindHost: string, token: string | undefined): boolean {
  if (token !== undefined || !isLoopback(bindHost)) return true;
  const host = req.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0];
  return isLoopback(name);
}
