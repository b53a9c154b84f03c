import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery, useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { namesNothing, productQuery, type Product } from '../api/client.js';
import { ErrorState, Loading, Money, NotLatest, ProductImage, focusAfterRender, stockText } from '../components.js';
import { failureText } from '../failure.js';
import { QuantityInput } from '../quantity-input.js';
import { MAX_QUANTITY } from '../cart.js';
import { useCart } from '../state.js';

let words: Promise<typeof import('./CartPage.js')> | undefined;

/** The product as a catalog list read it (the shop, a category, a search: HomePage's ['products', q, category]). */
function listed(queries: QueryClient, id: string): Product | undefined {
  for (const [, list] of queries.getQueriesData<InfiniteData<{ items: Product[] }>>({ queryKey: ['products'] }))
    for (const page of list?.pages ?? []) {
      const found = page.items.find((p) => p.id === id);
      if (found) return found;
    }
  return undefined;
}

export function ProductPage() {
  const { id = '' } = useParams();
  const cart = useCart();
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState<string | null>(null);
  // A quantity typed above what can still be added is lowered to it: said in a live region, as the cart page does
  // (the field showed the lower number only once left, and a screen reader heard nothing).
  const [lowered, setLowered] = useState<ReactNode>(null);
  const qtyId = useId();
  // What Quantity held when Add to cart was pressed, if it was no number of units ("1o", nothing): read at the press,
  // before the field's blur puts back its last quantity (the press then added that, never typed), and refused like
  // Enter in the field.
  const pressedOver = useRef<string | null>(null);
  const queries = useQueryClient();
  const product = useQuery({
    ...productQuery(id),
    // Opened from a card: what the list had shows at once ("Loading product…" showed while it was there), said to be
    // checked and with Add to cart waiting, until the shop's answer replaces it (changed since: the shop's; archived
    // since, a 404: placeholder data is dropped on an error, and the page says "Product not found").
    placeholderData: () => listed(queries, id),
  });
  const checking = product.isPlaceholderData;
  const missing = namesNothing(product.error);
  useEffect(() => {
    if (product.data) document.title = `${product.data.name}: Northwind Supply`;
    else if (missing) document.title = 'Product not found: Northwind Supply';
  }, [product.data, missing]);

  if (!product.data && product.isPending) return <Loading label="Loading product" />;
  if (product.isError && (!product.data || missing)) {
    return missing ? (
      <div className="empty">
        <h1>Product not found</h1>
        <p>
          It may have been archived. <Link to="/">Back to the shop</Link>
        </p>
      </div>
    ) : (
      <ErrorState message={failureText(product.error, 'This product cannot be loaded right now')} retry={() => void product.refetch()} />
    );
  }
  const p = product.data;
  const inCart = cart.lines.find((l) => l.productId === p.id)?.quantity ?? 0;
  // What one more press can add: the stock not yet in the cart, and the cart's own cap per line.
  const canAdd = Math.max(0, Math.min(p.stock, MAX_QUANTITY) - inCart);
  const amount = Math.max(1, Math.min(quantity, canAdd));
  const out = p.stock <= 0;
  // Says (or takes away) why the quantity typed was lowered, in the cart page's words (loweredWords): its chunk, not in
  // the first visit's bundle (at its budget), loads on the first change of the quantity, the field, bounded already,
  // not waiting for it; every change goes through that one load, so they land in the order made (the last number
  // typed is the one said). A failed load is tried again on the next change.
  const say = (typed: number, q: number) => {
    void (words ??= import('./CartPage.js')).then(
      (m) => setLowered(typed > q ? m.loweredWords(p.name, p.stock, typed, inCart) : null),
      () => (words = undefined),
    );
  };
  return (
    <>
      {/* Shown before (cached) and reading it again failed: it stays, said to be maybe not the latest. */}
      {product.isError && <NotLatest retry={() => void product.refetch()} />}
      <article className="product" aria-busy={checking || undefined}>
        <ProductImage product={p} size={480} alt={p.name} />
        <div className="product-info">
          <p className="crumbs">
            <Link to="/">Shop</Link>
            {p.category && (
              <>
                {' / '}
                <Link to={`/?category=${encodeURIComponent(p.category)}`}>{p.category}</Link>
              </>
            )}
          </p>
          <h1>{p.name}</h1>
          <p className="price big">
            <Money minor={p.priceCents} currency={p.currency} />
          </p>
          <p className={out ? 'stock out' : p.stock <= 10 ? 'stock low' : 'stock'}>{stockText(p.stock)}</p>
          {p.description && <p className="description">{p.description}</p>}
          <form
            className="buy"
            onSubmit={(e) => {
              e.preventDefault();
              const typed = pressedOver.current;
              pressedOver.current = null;
              if (typed !== null) {
                setAdded(null);
                setLowered(`Nothing was added: ${/^\d*$/.test(typed) ? `Quantity was ${typed || 'empty'}` : `“${typed}” is not a number of units`}. Type a number of units, such as 2, and press Add to cart.`);
                document.getElementById(qtyId)?.focus();
                return;
              }
              setQuantity(1);
              // At once, not when the message's chunk has loaded (say): "Nothing was added" of a press before stayed
              // beside "Added 10 to your cart." until then.
              setLowered(null);
              say(0, 1);
              // The message says what the cart took, as stored (stock, caps, lines, another tab's additions): the
              // second press of a double click comes before this page shows the first one's.
              void cart.add(p, amount).then(({ had, has }) => {
                const took = has - had;
                // Nothing taken of a product the cart has: at its stock or cap already, as the message says.
                if (took === 0 && had > 0) return;
                // Another press says how many the cart has now: the same "Added 1 to your cart." again changed nothing in
                // the live region, so a screen reader heard nothing, and the page looked the same, for a second unit.
                setAdded(took > 0 ? `Added ${took.toLocaleString('en')} to your cart.${had > 0 ? ` ${has.toLocaleString('en')} in your cart now.` : ''}` : 'Your cart is full: remove a product before adding another.');
                // The last units added disable the field and the button: the focus, on one of them, would drop to the
                // page's start. It goes to the message's View cart link, the next step.
                if (took > 0 && has >= Math.min(p.stock, MAX_QUANTITY)) focusAfterRender('#added-view-cart');
              });
            }}
          >
            <div className="field narrow">
              <label htmlFor={qtyId}>Quantity</label>
              <QuantityInput
                id={qtyId}
                value={amount}
                min={1}
                max={Math.max(1, canAdd)}
                disabled={out || canAdd === 0 || checking}
                onChange={(q, typed) => {
                  pressedOver.current = null;
                  say(typed, q);
                  setQuantity(q);
                }}
              />
            </div>
            <button
              type="submit"
              className="primary"
              disabled={out || canAdd === 0 || checking}
              onPointerDown={() => {
                const text = (document.getElementById(qtyId) as HTMLInputElement | null)?.value.trim() ?? '';
                pressedOver.current = /^\d+$/.test(text) && Number(text) >= 1 ? null : text;
              }}
            >
              Add to cart
            </button>
          </form>
          {/* There from the first render (a live region that appears with its text is not always heard). */}
          <p role="status" className="note">
            {checking ? 'Checking the current price and stock…' : lowered}
          </p>
          {inCart > 0 && canAdd === 0 && !out && (
            <p className="note">
              {/* At the cart's own cap with more in stock, not all there is: "All available units" said the shop had no more. */}
              {inCart >= MAX_QUANTITY && p.stock > inCart
                ? `Your cart has ${MAX_QUANTITY.toLocaleString('en')} of this product, the most a cart holds of one.`
                : 'All available units are in your cart.'}
            </p>
          )}
          <p role="status" className="added">
            {added && (
              <>
                {added}{' '}
                <Link id="added-view-cart" to="/cart">
                  View cart
                </Link>
              </>
            )}
          </p>
          <p className="meta">SKU {p.sku}</p>
        </div>
      </article>
    </>
  );
}
