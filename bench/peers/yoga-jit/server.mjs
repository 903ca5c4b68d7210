// The strongest peer of `make bench`: GraphQL Yoga 5 + graphql-shield + @envelop/graphql-jit,
// PEER_WORKERS processes (node:cluster, default 2) on one port, each reading fieldgate's
// SQLite file per request with better-sqlite3. Per request, as fieldgate does: the token's
// Ed25519 signature, its expiry and audience, and its row in issued_tokens (refused when
// revoked or never recorded).
//
// Environment: PEER_PORT, PEER_DATABASE (the SQLite file's path), PEER_SIGNING_KEY
// (fieldgate's Ed25519 PEM), PEER_WORKERS.
import cluster from 'node:cluster';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { schema, useDenials } from './schema.mjs';
import { openStore } from './store.mjs';

const port = Number(process.env.PEER_PORT);

if (cluster.isPrimary) {
  const workers = Number(process.env.PEER_WORKERS ?? 2);
  for (let i = 0; i < workers; i += 1) cluster.fork({ PEER_SLOT: String(i) });
  let listening = 0;
  cluster.on('listening', () => {
    listening += 1;
    if (listening === workers) process.stdout.write(`jit peer: ${workers} workers on ${port}\n`);
  });
  cluster.on('exit', (worker, code) => {
    process.stderr.write(`jit peer worker ${worker.process.pid} exited (${code})\n`);
    process.exit(1); // a worker short would measure less than the peer is
  });
} else {
  serve();
}

function serve() {
  const store = openStore(process.env.PEER_DATABASE);
  const slot = Number(process.env.PEER_SLOT);
  const publicKey = createPublicKey(createPrivateKey(readFileSync(process.env.PEER_SIGNING_KEY)));
  const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  const refused = (reason) =>
    new GraphQLError('authentication failed', {
      extensions: { code: 'UNAUTHENTICATED', reason, http: { status: 401 } },
    });

  /** The verified, unrevoked claims of the request's token. */
  function claimsOf(request) {
    const header = request.headers.get('authorization') ?? '';
    const [head, body, signature] = header.startsWith('Bearer ') ? header.slice(7).split('.') : [];
    if (!signature) throw refused('TOKEN_MISSING');
    const signed = Buffer.from(`${head}.${body}`);
    if (!verify(null, signed, publicKey, Buffer.from(signature, 'base64url'))) {
      throw refused('TOKEN_INVALID');
    }
    if (b64json(head).alg !== 'EdDSA') throw refused('TOKEN_INVALID');
    const claims = b64json(body);
    if (claims.exp * 1000 < Date.now() || claims.aud !== 'fieldgate-api') {
      throw refused('TOKEN_INVALID');
    }
    if (store.revoked(claims.jti)) throw refused('TOKEN_REVOKED');
    return claims;
  }

  const yoga = createYoga({
    schema,
    graphiql: false,
    logging: false,
    landingPage: false,
    plugins: [useGraphQlJit(), useDenials()],
    context: ({ request }) => {
      const claims = claimsOf(request);
      // sub is "staff:3", "user:1" or "partner:2": the account's id within its kind
      const accountId = Number(String(claims.sub).split(':')[1]);
      return { claims, accountId, store, slot, denials: new Map() };
    },
  });
  createServer(yoga).listen(port, '127.0.0.1');
}
