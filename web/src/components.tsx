import { Component, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { Product } from './api/client.js';
import { formatDate, formatDateTime } from './dates.js';
import { moneyParts } from './money.js';

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      {label}…
    </p>
  );
}

export function ErrorState({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div className="error-state" role="alert">
      <p>{message}</p>
      {retry && (
        <button
          type="button"
          onClick={() => {
            // The button goes while the page loads again: the focus goes to the page's main region, not its start.
            retry();
            focusAfterRender();
          }}
        >
          Try again
        </button>
      )}
    </div>
  );
}

/**
 * Above a page that keeps what it read last when reading it again failed (a poll of a pending order, a read after a
 * change): the shopper or admin is told it may not be the latest, and what they were looking at (an admin's unsaved
 * edits too) stays. In its place, a transient 503 on a pending order's poll hid the order behind "cannot be loaded".
 */
export function NotLatest({ retry }: { retry: () => void }) {
  return <ErrorState message="The shop is not answering just now, so this may not be the latest: what it said last is shown below." retry={retry} />;
}

/** "Only 3 left", "Out of stock": stock shown as it is. */
export function stockText(stock: number): string {
  if (stock <= 0) return 'Out of stock';
  if (stock <= 10) return `Only ${stock} left`;
  return 'In stock';
}

/**
 * In place of a product's missing picture: a framed picture outline (inline SVG: the CSP allows images of this origin
 * only, no data: URL). On the product page (`alt` given) it is an image named "No picture of <name>", and a compact band
 * (styles.css): the empty 1:1 box it was stood 330 px tall on a 360 px phone, the name and price pushed below the fold.
 */
function NoPicture({ alt }: { alt?: string }) {
  return (
    <div className="product-image placeholder" role={alt ? 'img' : undefined} aria-label={alt ? `No picture of ${alt}` : undefined} aria-hidden={alt ? undefined : true}>
      <svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
        <rect x="3" y="4" width="18" height="16" rx="2" />
        <circle cx="9" cy="10" r="2" />
        <path d="m21 16-5-5-9 9" />
      </svg>
      {alt && <span className="no-picture-text">No picture</span>}
    </div>
  );
}

export function ProductImage({ product, size, alt = '' }: { product: Pick<Product, 'imageUrl' | 'name'>; size: number; alt?: string }) {
  return product.imageUrl ? <img className="product-image" src={product.imageUrl} alt={alt} width={size} height={size} decoding="async" /> : <NoPicture alt={alt} />;
}

/**
 * An amount as formatMoney writes it, that fits its box at any width: whole when it fits, else broken between
 * the currency and the number (each a box of its own), and a number wider than the line only after a thousands
 * separator, never inside a group ("KWD 1,000,000,000.000" on a 320 px phone's cart line overflowed it).
 */
export function Money({ minor, currency }: { minor: number; currency: string }) {
  const out: ReactNode[] = [];
  let run: ReactNode[] = [];
  const endRun = () => {
    if (run.length) out.push(<span key={out.length} className="money-run">{run}</span>);
    run = [];
  };
  for (const part of moneyParts(minor, currency)) {
    if (part.type === 'literal' && part.value.trim() === '') {
      endRun();
      out.push(part.value, <wbr key={out.length + 1} />);
    } else {
      run.push(part.value);
      if (part.type === 'group') run.push(<wbr key={run.length} />);
    }
  }
  endRun();
  return <>{out}</>;
}

export function ProductCard({ product, eager }: { product: Product; eager?: boolean }) {
  return (
    <li className="card">
      <Link to={`/products/${product.id}`} className="card-link">
        {product.imageUrl ? (
          <img className="product-image" src={product.imageUrl} alt="" width={320} height={320} loading={eager ? 'eager' : 'lazy'} decoding="async" />
        ) : (
          <NoPicture />
        )}
        <span className="card-name">{product.name}</span>
      </Link>
      <p className="price">
        <Money minor={product.priceCents} currency={product.currency} />
      </p>
      <p className={product.stock > 0 ? (product.stock <= 10 ? 'stock low' : 'stock') : 'stock out'}>{stockText(product.stock)}</p>
    </li>
  );
}

/** Same boxes as a loaded card, so nothing moves when the products arrive (CLS). */
export function SkeletonGrid({ count = 12 }: { count?: number }) {
  return (
    <ul className="grid" aria-hidden="true">
      {Array.from({ length: count }, (_, i) => (
        <li key={i} className="card skeleton">
          <div className="product-image" />
          <span className="card-name">
            <span className="bone" />
          </span>
          <p className="bone short" />
          <p className="bone short" />
        </li>
      ))}
    </ul>
  );
}

/**
 * After an action removes or disables the element that had the focus (the browser would drop it to the page's
 * start), moves it to the first match of `selectors` once React has rendered: the next thing to act on, or the
 * place that says what happened. The main region is the last resort.
 *
 * React may draw the target a few frames later (an update outside an event handler is scheduled, and deferred
 * values render in the background), so it looks again on each frame for up to FOCUS_FRAMES, unless the focus
 * went somewhere else meanwhile (the user moved on: it is not taken back).
 */
export function focusAfterRender(...selectors: string[]): void {
  const from = document.activeElement;
  let frames = 0;
  const attempt = () => {
    const now = document.activeElement;
    if (now !== from && now !== document.body && now !== null) return;
    for (const selector of selectors) {
      const el = document.querySelector<HTMLElement>(selector);
      el?.focus();
      // A match that cannot take the focus (a heading without tabindex) does not count.
      if (el && document.activeElement === el) return;
    }
    if (++frames < FOCUS_FRAMES) requestAnimationFrame(attempt);
    else document.querySelector<HTMLElement>('#main')?.focus();
  };
  requestAnimationFrame(attempt);
}

/** About a quarter of a second at 60 frames a second. */
const FOCUS_FRAMES = 15;

/**
 * What a page that failed to render shows instead of a blank app: mostly a page chunk that could not be fetched
 * (the connection dropped, or the shop was updated and the old chunk is gone). Keyed by the address in Layout, so
 * going elsewhere (Back included) tries again; Reload fetches the app afresh.
 */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="error-state" role="alert">
        <p>This page could not be loaded: the connection may be down, or the shop was just updated.</p>
        <button type="button" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}

/** A date as the shop writes it ("7 Dec 2026, 14:05", or "7 Dec 2026" with `day`), the instant kept in `dateTime`. */
export function DateTime({ iso, day = false }: { iso: string; day?: boolean }) {
  return <time dateTime={iso}>{day ? formatDate(iso) : formatDateTime(iso)}</time>;
}
