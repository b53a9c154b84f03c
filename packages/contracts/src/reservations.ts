// The product service's internal reservation API (/internal/reservations), as the order service calls it.
import { Type, UUID_PATTERN, type Static } from '@ecommerce/kit';

const strict = { additionalProperties: false } as const;

/** One UUID grammar for every service: the kit's (RFC 9562, any letter case). */
export const Uuid = Type.String({ pattern: UUID_PATTERN });

export const ReservationStatus = Type.Union([Type.Literal('reserved'), Type.Literal('released'), Type.Literal('refused')]);
export type ReservationStatus = Static<typeof ReservationStatus>;

/** What a client says it was shown: compared with the product's price, never used as one (POST /order, reservations). */
export const ExpectedPriceCents = Type.Integer({
  minimum: 0,
  maximum: 1_000_000_000,
  description: 'the unit price the customer was shown; another price now refuses the order (409 price-changed)',
});
export const ExpectedCurrency = Type.String({ pattern: '^[A-Z]{3}$', 'x-pattern-message': 'must be a currency code such as USD', description: 'the currency the customer was shown; another one refuses the order (409 price-changed)' });

/**
 * Sent by the order service on POST /internal/reservations as `Prefer: refusal-statuses=contract` (RFC 7240): answer
 * each refusal with its own status and type (404 unknown product, 409 insufficient-stock, price-changed or
 * reservation-expired, 422 mixed-currency). A caller that sends `notAfter` but not this preference (the order service of
 * the previous release, which sends `notAfter` on every reservation and reads only 409 `reservation-refused`) gets every
 * refusal as 409 `reservation-refused`, with the same `orderId`, `reason` and details, so either order release reads
 * either product release during a rolling update; a caller that sends the shared contract's request (`{ orderId, items }`)
 * gets the statuses above with or without it.
 */
export const REFUSAL_STATUSES_PREFERENCE = 'refusal-statuses=contract';

export const ReserveBody = Type.Object(
  {
    orderId: Uuid,
    items: Type.Array(
      Type.Object(
        {
          productId: Uuid,
          quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          // Optional guards: the price the customer was shown. A product whose price or currency differs now is
          // refused (`price-changed`), nothing reserved; prices still come from the products table, never from here.
          expectedUnitPriceCents: Type.Optional(ExpectedPriceCents),
          expectedCurrency: Type.Optional(ExpectedCurrency),
        },
        strict,
      ),
      { minItems: 1, maxItems: 100 },
    ),
    // Optional, added for the order service: a new reservation is refused after this instant, so none can
    // appear once the order's deadline has passed and the reconciler may settle it as failed.
    notAfter: Type.Optional(Type.String({ format: 'date-time' })),
  },
  strict,
);
export type ReserveRequest = Static<typeof ReserveBody>;

export const ReservationSchema = Type.Object({
  orderId: Type.String({ format: 'uuid' }),
  status: ReservationStatus,
  items: Type.Array(
    Type.Object({
      productId: Type.String({ format: 'uuid' }),
      quantity: Type.Integer(),
      unitPriceCents: Type.Integer(),
      currency: Type.String(),
      // The product's name as the product service answers (absent from one older than this field): the order
      // keeps it, so an order still names what was bought once the product is renamed or archived.
      name: Type.Optional(Type.String()),
    }),
  ),
  // Only on a refused reservation: { reason, ...details }, as in the refusal's problem (404, 409 or 422).
  refusal: Type.Optional(Type.Object({ reason: Type.String() }, { additionalProperties: true })),
});
export type ReservationBody = Static<typeof ReservationSchema>;

/** DELETE's answer: the reservation, and whether this call gave its stock back (false: already released, or refused). */
export const ReleasedReservationSchema = Type.Composite([ReservationSchema, Type.Object({ released: Type.Boolean() })]);
export type ReleasedReservationBody = Static<typeof ReleasedReservationSchema>;
export type ReservedLine = ReservationBody['items'][number];

/** A line whose product is priced otherwise than the client expected: what it expected and the price now. */
export const PriceChange = Type.Object({
  productId: Type.String(),
  expectedUnitPriceCents: Type.Optional(Type.Integer()),
  expectedCurrency: Type.Optional(Type.String()),
  unitPriceCents: Type.Integer(),
  currency: Type.String(),
});
export type PriceChange = Static<typeof PriceChange>;

/**
 * Why a reservation was refused: the `reason` and details of the refusal's problem (and of a
 * refused reservation's `refusal`). Final for the order id: every later request for it gets the same answer.
 */
export const Refusal = Type.Union([
  Type.Object({
    reason: Type.Literal('insufficient-stock'),
    items: Type.Array(Type.Object({ productId: Type.String(), requested: Type.Integer(), available: Type.Integer() })),
  }),
  Type.Object({ reason: Type.Literal('unknown-product'), productIds: Type.Array(Type.String()) }),
  Type.Object({ reason: Type.Literal('mixed-currency') }),
  Type.Object({ reason: Type.Literal('expired'), notAfter: Type.String() }),
  Type.Object({ reason: Type.Literal('price-changed'), items: Type.Array(PriceChange) }),
]);
export type Refusal = Static<typeof Refusal>;
export type RefusalReason = Refusal['reason'];

/** GET /internal/reservations: one keyset page of reservations in one status (the order service's audit). */
export const ReservationListQuery = Type.Object(
  {
    status: Type.Union([Type.Literal('reserved'), Type.Literal('released'), Type.Literal('refused')], { default: 'reserved' }),
    after: Type.Optional(Uuid),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
  },
  strict,
);
export const ReservationListPage = Type.Object({
  items: Type.Array(Type.Object({ orderId: Type.String({ format: 'uuid' }), status: Type.String() })),
  next: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'pass as `after` for the next page; null on the last' }),
});
export type ReservationListPage = Static<typeof ReservationListPage>;
