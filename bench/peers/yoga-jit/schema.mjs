// The jit peer's schema, resolvers and graphql-shield rules: the rules fieldgate's packaged
// policy gives a support agent under CUSTOMER_SUPPORT (contact fields masked, in full on the
// tickets assigned to the agent; ID number, bank card and invoice fields denied) and a user
// under RIGHTS (their own profile and orders in full, placing an order).
//
// A denied field resolves to null and is counted; the `denials` plugin then answers one
// error per denied field with that count, as fieldgate does, instead of graphql-shield's
// one error per denied value.
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLError, responsePathAsArray } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, deny, rule, shield } from 'graphql-shield';
import { maskAddress, maskEmail, maskName, maskPhone } from '../yoga/masks.mjs';
import { isoTime } from './store.mjs';

const typeDefs = /* GraphQL */ `
  enum Purpose { CUSTOMER_SUPPORT DELIVERY ORDER_FULFILLMENT RIGHTS }
  directive @purpose(name: Purpose!) on QUERY
  scalar DateTime
  type Course { id: ID! title: String category: String teacher: String }
  type OrderItem { id: ID! quantity: Int priceCents: Int course: Course }
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
  type OrderConnection { edges: [OrderEdge!]! }
  type TicketMessage { id: ID! authorKind: String body: String createdAt: DateTime }
  type SupportTicket {
    id: ID!
    subject: String
    status: String
    createdAt: DateTime
    contactPhone: String
    contactEmail: String
    messages: [TicketMessage!]
    order: Order
  }
  type SupportTicketEdge { cursor: String! node: SupportTicket! }
  type SupportTicketConnection { edges: [SupportTicketEdge!]! }
  type User { id: ID! username: String phone: String email: String }
  type Query {
    orders(first: Int, after: String): OrderConnection
    tickets(first: Int, after: String): SupportTicketConnection
    me: User
  }
  input PlaceOrderInput {
    courseIds: [ID!]!
    deliveryAddress: String
    invoiceTitle: String
    invoiceTaxId: String
    remarks: String
  }
  type Mutation { placeOrder(input: PlaceOrderInput!): Order }
`;

const PAGE_LIMIT = 100;
const edges = (rows) => ({ edges: rows.map((node) => ({ cursor: String(node.id), node })) });
const first = (args) => Math.min(args.first ?? PAGE_LIMIT, PAGE_LIMIT);

/** The purpose the operation declares; a user's default is RIGHTS, as in fieldgate. */
function purposeOf(info) {
  const declared = info.operation.directives
    ?.find((d) => d.name.value === 'purpose')
    ?.arguments.find((a) => a.name.value === 'name')?.value.value;
  return declared ?? 'RIGHTS';
}

/** What the caller may do in this operation, worked out once per request. */
function access(context, info) {
  if (context.access === undefined) {
    const roles = context.claims.roles ?? [];
    const purpose = purposeOf(info);
    context.access = {
      purpose,
      support: roles.includes('support_agent') && purpose === 'CUSTOMER_SUPPORT',
      rights: roles.includes('user') && purpose === 'RIGHTS',
    };
  }
  return context.access;
}

// Masked for a support agent, in full for the owner.
const masked = (field, mask) => (row, _, context, info) => {
  const value = row[field];
  return value == null || !access(context, info).support ? value : mask(value);
};
// In full on the tickets assigned to the calling agent, masked on the others.
const contact = (field, mask) => (ticket, _, context) => {
  const value = ticket[field];
  return value == null || ticket.assignedStaffId === context.accountId ? value : mask(value);
};
const time = (field) => (row) => isoTime(row[field]);

const resolvers = {
  Query: {
    orders: (_, args, { store }) => edges(store.orders(first(args))),
    tickets: (_, args, { store }) => edges(store.tickets(first(args))),
    me: (_, __, { store, accountId }) => store.user(accountId),
  },
  Mutation: {
    placeOrder: (_, { input }, { store, accountId, slot }) => {
      const courses = [...new Set(input.courseIds.map(Number))].sort((a, b) => a - b);
      const remarks = input.remarks ?? null;
      const order = store.place(accountId, courses, input.deliveryAddress ?? null, remarks, slot);
      if (order === null) {
        throw new GraphQLError('Course not found', {
          extensions: { code: 'NOT_FOUND', argument: 'courseIds' },
        });
      }
      return order;
    },
  },
  Order: {
    createdAt: time('createdAt'),
    items: (order, _, { store }) => store.items(order),
    buyerName: masked('buyerName', maskName),
    buyerPhone: masked('buyerPhone', maskPhone),
    deliveryAddress: masked('deliveryAddress', maskAddress),
  },
  OrderItem: { course: (item, _, { store }) => store.course(item) },
  SupportTicket: {
    createdAt: time('createdAt'),
    contactPhone: contact('contactPhone', maskPhone),
    contactEmail: contact('contactEmail', maskEmail),
    messages: (ticket, _, { store }) => store.messages(ticket),
    order: (ticket, _, { store }) => store.order(ticket),
  },
  TicketMessage: { createdAt: time('createdAt') },
};

const isSupport = rule({ cache: 'contextual' })((_, __, context, info) => access(context, info).support);
const isUser = rule({ cache: 'contextual' })((_, __, context, info) => access(context, info).rights);
const readsChild = rule({ cache: 'contextual' })((_, __, context, info) => {
  const { support, rights } = access(context, info);
  return support || rights;
});
// A row rule: cheap, so not cached (graphql-shield's per-parent cache hashes the row).
const readsOrder = rule({ cache: 'no_cache' })((order, _, context, info) => {
  const { support, rights } = access(context, info);
  return support || (rights && order.userId === context.accountId);
});
const ownsOrder = rule({ cache: 'no_cache' })(
  (order, _, context, info) => access(context, info).rights && order.userId === context.accountId,
);

const permissions = shield(
  {
    Query: { orders: isSupport, tickets: isSupport, me: isUser },
    Mutation: { placeOrder: isUser },
    OrderConnection: { '*': allow },
    OrderEdge: { '*': allow },
    SupportTicketConnection: { '*': allow },
    SupportTicketEdge: { '*': allow },
    Order: {
      '*': readsOrder,
      buyerIdNumber: ownsOrder,
      bankCard: ownsOrder,
      invoiceTitle: ownsOrder,
      invoiceTaxId: ownsOrder,
    },
    OrderItem: { '*': readsChild },
    Course: { '*': readsChild },
    SupportTicket: { '*': isSupport },
    TicketMessage: { '*': isSupport },
    User: { '*': isUser },
  },
  {
    fallbackRule: deny,
    allowExternalErrors: false,
    // a denial: null in the data, counted for the one error per denied field
    fallbackError: (thrown, _, __, context, info) => {
      if (thrown) return thrown;
      const field = `${info.parentType.name}.${info.fieldName}`;
      const seen = context.denials.get(field);
      if (seen) seen.count += 1;
      else context.denials.set(field, { count: 1, path: info.path, purpose: access(context, info).purpose });
      return null;
    },
  },
);

export const schema = applyMiddleware(makeExecutableSchema({ typeDefs, resolvers }), permissions);

function denialErrors(denials) {
  return [...denials].map(
    ([field, { count, path, purpose }]) =>
      new GraphQLError(`${field} is not disclosed for purpose ${purpose}`, {
        path: responsePathAsArray(path),
        extensions: {
          code: 'FORBIDDEN_FIELD',
          field,
          purpose,
          reason: 'PURPOSE_NOT_ALLOWED_FOR_FIELD',
          count,
        },
      }),
  );
}

/** The Yoga plugin that adds the denials of an operation to its errors, and logs an
 * operation that failed otherwise (as fieldgate's log does: the bench counts them). */
export const useDenials = () => ({
  onExecute: () => ({
    onExecuteDone: ({ args, result }) => {
      if (result.errors?.length) {
        const codes = result.errors.map((e) => e.extensions?.code ?? 'INTERNAL');
        const messages = result.errors.map((e) => e.message);
        process.stdout.write(`${JSON.stringify({ event: 'operation_error', codes, messages })}\n`);
      }
      const { denials } = args.contextValue;
      if (denials.size > 0) result.errors = [...(result.errors ?? []), ...denialErrors(denials)];
    },
  }),
});
