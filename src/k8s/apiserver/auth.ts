// Bearer-token authentication: one static admin token, plus service-account tokens this server issues through the
// TokenRequest subresource — HS256 JWTs with Kubernetes' claims (sub system:serviceaccount:<ns>:<sa>, exp, and the
// service account's uid, so deleting the account revokes its tokens).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  iat: number;
  nbf: number;
  exp: number;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
}

export type Identity =
  | { kind: 'admin'; user: string }
  | { kind: 'serviceaccount'; namespace: string; name: string; uid: string; expiresAt: number };

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class TokenAuthority {
  constructor(
    private readonly adminToken: string,
    private readonly signingKey: Buffer,
    private readonly issuer = DEFAULT_ISSUER,
    private readonly now: () => number = Date.now,
  ) {}

  static randomSecret(bytes = 32): string {
    return randomBytes(bytes).toString('hex');
  }

  issue(
    namespace: string,
    name: string,
    uid: string,
    expirationSeconds: number,
    audiences: string[],
  ): { token: string; expiresAt: Date } {
    const iat = Math.floor(this.now() / 1000);
    const claims: ServiceAccountClaims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${namespace}:${name}`,
      aud: audiences.length ? audiences : [this.issuer],
      iat,
      nbf: iat,
      exp: iat + expirationSeconds,
      'kubernetes.io': { namespace, serviceaccount: { name, uid } },
    };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = b64url(createHmac('sha256', this.signingKey).update(`${head}.${body}`).digest());
    return { token: `${head}.${body}.${sig}`, expiresAt: new Date(claims.exp * 1000) };
  }

  /**
   * The identity behind an Authorization header, or undefined (-> 401). `lookupServiceAccountUid` confirms the
   * account still exists with the uid the token was issued for.
   */
  async authenticate(
    header: string | undefined,
    lookupServiceAccountUid: (ns: string, name: string) => Promise<string | undefined>,
  ): Promise<Identity | undefined> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return undefined;
    const token = m[1]!;
    if (safeEqual(token, this.adminToken)) return { kind: 'admin', user: 'admin' };
    const claims = this.verify(token);
    if (!claims) return undefined;
    const sa = claims['kubernetes.io'];
    const uid = await lookupServiceAccountUid(sa.namespace, sa.serviceaccount.name);
    if (uid === undefined || uid !== sa.serviceaccount.uid) return undefined;
    return {
      kind: 'serviceaccount',
      namespace: sa.namespace,
      name: sa.serviceaccount.name,
      uid,
      expiresAt: claims.exp * 1000,
    };
  }

  /** Signature, issuer and time checks; undefined when any fails. */
  verify(token: string): ServiceAccountClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = b64url(createHmac('sha256', this.signingKey).update(`${parts[0]}.${parts[1]}`).digest());
    if (!safeEqual(parts[2]!, expected)) return undefined;
    let claims: ServiceAccountClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as ServiceAccountClaims;
    } catch {
      return undefined;
    }
    const nowSec = this.now() / 1000;
    if (claims.iss !== this.issuer || typeof claims.exp !== 'number' || nowSec >= claims.exp) return undefined;
    if (typeof claims.nbf === 'number' && nowSec + 5 < claims.nbf) return undefined;
    if (!claims['kubernetes.io']?.serviceaccount?.name) return undefined;
    return claims;
  }
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
