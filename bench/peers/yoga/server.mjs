// The peer of `make bench`: GraphQL Yoga 5 + graphql-shield over the same orders, with the
// same rules for support_agent under CUSTOMER_SUPPORT: contact fields masked in the same
// formats, ID number and bank card denied (graphql-shield: one error per denied value),
// every other field denied by the fallback rule.
//
// Environment: PEER_PORT, PEER_DATA (the JSON export the bench writes: {"orders": [...]}),
// PEER_SIGNING_KEY (fieldgate's Ed25519 PEM: tokens are verified as fieldgate does).
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { applyMiddleware } from 'graphql-middleware';
import { allow, deny, rule, shield } from 'graphql-shield';
import { createYoga } from 'graphql-yoga';
import { maskAddress, maskName, maskPhone } from './masks.mjs';

const { orders } = JSON.parse(readFileSync(process.env.PEER_DATA, 'utf8'));
const publicKey = createPublicKey(createPrivateKey(readFileSync(process.env.PEER_SIGNING_KEY)));

const typeDefs = /* GraphQL */ `
  enum Purpose { CUSTOMER_SUPPORT DELIVERY ORDER_FULFILLMENT }
  directive @purpose(name: Purpose!) on QUERY
  scalar DateTime
  type OrderItem { id: ID! quantity: Int priceCents: Int }
  type Order {
    id: ID!
    orderNo: String
    status: String
    amountCents: Int
    createdAt: DateTime
    items: [OrderItem!]
    buyerName: String
    buyerPhone: String
    buyerIdNumber: String
    bankCard: String
    deliveryAddress: String
    invoiceTitle: String
    invoiceTaxId: String
    remarks: String
  }
  type OrderEdge { cursor: String! node: Order! }
  type OrderConnection { edges: [OrderEdge!]! totalCount: Int! }
  type Query { orders(first: Int, after: String): OrderConnection! }
`;

const masked = (field, mask) => (order) => {
  const value = order[field];
  return value == null ? null : mask(value);
};

const resolvers = {
  Query: {
    orders: (_, { first }) => {
      const page = orders.slice(0, Math.min(first ?? 100, 100));
      return { edges: page.map((node) => ({ cursor: node.id, node })), totalCount: orders.length };
    },
  },
  // Support agents see the contact fields masked (the only role this peer serves).
  Order: {
    buyerName: masked('buyerName', maskName),
    buyerPhone: masked('buyerPhone', maskPhone),
    deliveryAddress: masked('deliveryAddress', maskAddress),
  },
};

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** The verified claims of an EdDSA JWT from fieldgate, or null. */
function claimsOf(request) {
  const header = request.headers.get('authorization') ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  const [head, body, signature] = token.split('.');
  if (!signature) return null;
  const ok = verify(null, Buffer.from(`${head}.${body}`), publicKey, Buffer.from(signature, 'base64url'));
  if (!ok || b64json(head).alg !== 'EdDSA') return null;
  const claims = b64json(body);
  if (claims.exp * 1000 < Date.now() || claims.aud !== 'fieldgate-api') return null;
  return claims;
}

const purposeOf = (info) =>
  info.operation.directives
    ?.find((d) => d.name.value === 'purpose')
    ?.arguments.find((a) => a.name.value === 'name')?.value.value;

const isSupport = rule({ cache: 'contextual' })(
  (_, __, context, info) =>
    (context.claims?.roles ?? []).includes('support_agent') && purposeOf(info) === 'CUSTOMER_SUPPORT',
);

const permissions = shield(
  {
    Query: { orders: isSupport },
    OrderConnection: { '*': allow },
    OrderEdge: { '*': allow },
    Order: {
      id: isSupport,
      orderNo: isSupport,
      status: isSupport,
      amountCents: isSupport,
      createdAt: isSupport,
      items: isSupport,
      remarks: isSupport,
      buyerName: isSupport,
      buyerPhone: isSupport,
      deliveryAddress: isSupport,
      buyerIdNumber: deny,
      bankCard: deny,
    },
    OrderItem: { '*': isSupport },
  },
  { fallbackRule: deny, allowExternalErrors: false },
);

const schema = applyMiddleware(makeExecutableSchema({ typeDefs, resolvers }), permissions);
const yoga = createYoga({
  schema,
  graphiql: false,
  logging: false,
  landingPage: false,
  context: ({ request }) => ({ claims: claimsOf(request) }),
});
createServer(yoga).listen(Number(process.env.PEER_PORT), '127.0.0.1', () => {
  process.stdout.write(`peer listening on ${process.env.PEER_PORT}\n`);
});
