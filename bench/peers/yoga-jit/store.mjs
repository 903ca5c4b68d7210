// The jit peer's data: fieldgate's own SQLite file, read per request with better-sqlite3.
// One statement per page and per relation level: a page's rows share a `page` object, and
// the first row asked for a relation loads it for the whole page (what a DataLoader does,
// without the promise per key, since better-sqlite3 answers synchronously).
import Database from 'better-sqlite3';

const ORDER_COLUMNS = `id, user_id AS userId, order_no AS orderNo, status,
  amount_cents AS amountCents, created_at AS createdAt, buyer_name AS buyerName,
  buyer_phone AS buyerPhone, buyer_id_number AS buyerIdNumber, bank_card AS bankCard,
  delivery_address AS deliveryAddress, invoice_title AS invoiceTitle,
  invoice_tax_id AS invoiceTaxId, remarks`;
const ITEM_COLUMNS = 'id, order_id AS orderId, course_id AS courseId, quantity, price_cents AS priceCents';
const IDS = 'SELECT value FROM json_each(?)';

/** SQLAlchemy's SQLite DATETIME text → fieldgate's ISO 8601 (Python's isoformat, UTC). */
export function isoTime(value) {
  if (value == null) return null;
  const [seconds, fraction = ''] = value.split('.');
  const micro = /[1-9]/.test(fraction) ? `.${fraction.padEnd(6, '0').slice(0, 6)}` : '';
  return `${seconds.replace(' ', 'T')}${micro}+00:00`;
}

export function openStore(path) {
  // fieldgate's file as it is (WAL); the writers of a worker pair wait for each other
  const db = new Database(path, { timeout: 10000 });
  const prepare = (sql) => db.prepare(sql);
  const statements = {
    revokedAt: prepare('SELECT revoked_at AS revokedAt FROM issued_tokens WHERE jti = ?'),
    orders: prepare(`SELECT ${ORDER_COLUMNS} FROM orders ORDER BY id LIMIT ?`),
    ordersById: prepare(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id IN (${IDS}) ORDER BY id`),
    items: prepare(`SELECT ${ITEM_COLUMNS} FROM order_items WHERE order_id IN (${IDS}) ORDER BY id`),
    courses: prepare(
      `SELECT id, title, category, teacher FROM courses WHERE id IN (${IDS}) ORDER BY id`,
    ),
    tickets: prepare(`SELECT id, user_id AS userId, order_id AS orderId, subject, status,
      contact_phone AS contactPhone, contact_email AS contactEmail,
      assigned_staff_id AS assignedStaffId, created_at AS createdAt
      FROM support_tickets ORDER BY id LIMIT ?`),
    messages: prepare(`SELECT id, ticket_id AS ticketId, author_kind AS authorKind, body,
      created_at AS createdAt FROM ticket_messages WHERE ticket_id IN (${IDS}) ORDER BY id`),
    user: prepare('SELECT id, username, phone, email FROM users WHERE id = ?'),
    buyer: prepare('SELECT real_name AS realName, phone, id_number AS idNumber FROM users WHERE id = ?'),
    prices: prepare(
      `SELECT id, price_cents AS priceCents, ships_materials AS ships FROM courses WHERE id IN (${IDS})`,
    ),
    logistics: prepare(`SELECT id FROM partners WHERE kind = 'logistics' AND region = 'CN'
      AND active ORDER BY id LIMIT 1`),
    insertOrder: prepare(`INSERT INTO orders (order_no, user_id, status, amount_cents,
      created_at, buyer_name, buyer_phone, buyer_id_number, delivery_address, remarks,
      logistics_partner_id) VALUES (@orderNo, @userId, 'pending', @amountCents, @createdAt,
      @buyerName, @buyerPhone, @buyerIdNumber, @deliveryAddress, @remarks, @logistics)`),
    insertItem: prepare(`INSERT INTO order_items (order_id, course_id, quantity, price_cents)
      VALUES (?, ?, 1, ?)`),
  };
  return new Store(db, statements);
}

/** Rows of one page, each knowing its page so that a relation loads once for all of them. */
function paged(rows) {
  const page = { rows, loaded: {} };
  for (const row of rows) row.page = page;
  return rows;
}

/** The distinct non-null values of `key` over a page's rows, as the JSON array `IDS` reads. */
function keys(page, key) {
  return JSON.stringify([...new Set(page.rows.map((r) => r[key]).filter((v) => v != null))]);
}

const byId = (rows) => new Map(rows.map((r) => [r.id, r]));

function grouped(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const group = groups.get(row[key]);
    if (group) group.push(row);
    else groups.set(row[key], [row]);
  }
  return groups;
}

let sequence = 0;

class Store {
  constructor(db, statements) {
    this.db = db;
    this.s = statements;
    const place = db.transaction((...args) => this.#place(...args));
    // BEGIN IMMEDIATE: a write lock taken up front waits (busy timeout) for the other
    // worker's; a read transaction upgraded later would fail at once in WAL mode
    this.place = (...args) => place.immediate(...args);
  }

  /** Whether the token id may not be used: revoked, or never recorded by fieldgate. */
  revoked(jti) {
    const row = this.s.revokedAt.get(jti);
    return row === undefined || row.revokedAt !== null;
  }

  orders(first) {
    return paged(this.s.orders.all(first));
  }

  tickets(first) {
    return paged(this.s.tickets.all(first));
  }

  user(id) {
    return this.s.user.get(id) ?? null;
  }

  /** The items of `order`, loaded for its whole page on first use. */
  items(order) {
    const { loaded } = order.page;
    loaded.items ??= grouped(paged(this.s.items.all(keys(order.page, 'id'))), 'orderId');
    return loaded.items.get(order.id) ?? [];
  }

  course(item) {
    const { loaded } = item.page;
    loaded.courses ??= byId(this.s.courses.all(keys(item.page, 'courseId')));
    return loaded.courses.get(item.courseId) ?? null;
  }

  messages(ticket) {
    const { loaded } = ticket.page;
    loaded.messages ??= grouped(this.s.messages.all(keys(ticket.page, 'id')), 'ticketId');
    return loaded.messages.get(ticket.id) ?? [];
  }

  order(ticket) {
    if (ticket.orderId == null) return null;
    const { loaded } = ticket.page;
    loaded.orders ??= byId(paged(this.s.ordersById.all(keys(ticket.page, 'orderId'))));
    return loaded.orders.get(ticket.orderId) ?? null;
  }

  /** placeOrder as fieldgate does it: prices, buyer copied, the order and its items. */
  #place(userId, courseIds, address, remarks, slot) {
    const found = this.s.prices.all(JSON.stringify(courseIds));
    if (found.length !== courseIds.length) return null;
    const ships = found.some((c) => c.ships);
    const buyer = this.s.buyer.get(userId);
    const now = new Date();
    const micro = (now.getUTCMilliseconds() * 1000 + slot * 500 + (sequence++ % 500)) % 1000000;
    const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const orderNo = `FG${stamp}${String(userId % 10000).padStart(4, '0')}${String(micro).padStart(6, '0')}`;
    const amountCents = found.reduce((sum, c) => sum + c.priceCents, 0);
    const createdAt = `${now.toISOString().slice(0, 19).replace('T', ' ')}.${String(micro).padStart(6, '0')}`;
    const { lastInsertRowid } = this.s.insertOrder.run({
      orderNo,
      userId,
      amountCents,
      createdAt,
      buyerName: buyer.realName,
      buyerPhone: buyer.phone,
      buyerIdNumber: buyer.idNumber,
      deliveryAddress: ships ? address : null,
      remarks,
      logistics: ships ? (this.s.logistics.get()?.id ?? null) : null,
    });
    const id = Number(lastInsertRowid);
    for (const course of found) this.s.insertItem.run(id, course.id, course.priceCents);
    return paged([{ id, userId, orderNo, status: 'pending', amountCents, createdAt }])[0];
  }
}
