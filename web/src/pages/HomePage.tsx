import { useDeferredValue, useEffect, useId, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { MAX_SEARCH, catalogCategory, catalogPage, catalogText, categoryLabels, categoryOptions } from '../catalog-query.js';
import { ErrorState, NotLatest, ProductCard, SkeletonGrid, focusAfterRender } from '../components.js';
import { categoriesQuery } from '../categories.js';
import { countOf } from '../count.js';

const PAGE = 12;

/** Waits for typing to pause before searching. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function HomePage() {
  const [params, setParams] = useSearchParams();
  // The shop's limits (GET /product: q up to 200 characters, a category up to 1,152, as NFKC lists one of 64) and
  // what it refuses (a NUL): an address past them is cut to them, not sent to be refused (a 400 would read as an
  // outage whose Try again never works).
  const urlQ = catalogText(params.get('q') ?? '', MAX_SEARCH);
  const [text, setText] = useState(urlQ);
  const category = catalogCategory(params.get('category') ?? '');
  const q = useDebounced(catalogText(text.trim(), MAX_SEARCH), 250);
  const searchId = useId();
  const categoryId = useId();
  // The address changed the search, not typing (the brand link, Back, Forward): the field follows it. React's
  // pattern for adjusting state to a changed input, during the render.
  const [seenUrlQ, setSeenUrlQ] = useState(urlQ);
  // The address's search changed by Back, Forward or a link: the next search typed is a new entry.
  const ownEntry = useRef(false);
  if (urlQ !== seenUrlQ) {
    setSeenUrlQ(urlQ);
    if (urlQ !== q) {
      setText(urlQ);
      ownEntry.current = false;
    }
  }

  useEffect(() => {
    document.title = 'Northwind Supply: shop';
  }, []);
  // Typing writes the search to the address, once per new search: never back over an address that changed it. A
  // search is one history entry: its first word adds one (Back is the shop as it was before it, not the page before
  // the shop: the old address was replaced, and Back left the shop), and refining it while typing replaces that one.
  const written = useRef(q);
  useEffect(() => {
    if (q === written.current) return;
    written.current = q;
    const next = new URLSearchParams(params);
    if (q) next.set('q', q);
    else next.delete('q');
    if (next.toString() === params.toString()) return;
    setParams(next, { replace: ownEntry.current });
    ownEntry.current = true;
  }, [q, params, setParams]);

  const products = useInfiniteQuery({
    queryKey: ['products', q, category],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => catalogPage({ q, category, limit: PAGE, cursor: pageParam }),
    getNextPageParam: (last) => last.nextCursor,
  });
  // The catalog's categories, the first 100 in order (GET /product/categories): taken from the first 100 products
  // instead, a category whose products all came later was never offered. The selected one always shows.
  const categories = useQuery(categoriesQuery);
  const options = categoryOptions(categories.data ?? [], category);
  const labels = categoryLabels(options);
  // The grid renders from a deferred copy of the pages: when they arrive, React draws the cards in a background
  // render it can interrupt and slice, not in one long task (the query's update itself is synchronous).
  const pages = useDeferredValue(products.data);
  const items = useMemo(() => pages?.pages.flatMap((p) => p.items) ?? [], [pages]);
  const loading = pages === undefined && !products.isError;
  const none = !loading && !products.isError && items.length === 0;

  return (
    <>
      <section className="hero">
        <h1>Good things, honestly in stock</h1>
        <p>What you see is what we have: stock is live, and an order is taken once, even if you click twice.</p>
      </section>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div className="field grow">
          <label htmlFor={searchId}>Search</label>
          <input id={searchId} type="search" maxLength={MAX_SEARCH} value={text} onChange={(e) => setText(e.target.value)} placeholder="Keyboard, kettle, book…" autoComplete="off" />
        </div>
        <div className="field category-filter">
          <label htmlFor={categoryId}>Category</label>
          <select
            id={categoryId}
            value={category}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              if (e.target.value) next.set('category', e.target.value);
              else next.delete('category');
              // A category chosen is an entry of its own (Back undoes it), as a link to it is; a search typed next too.
              setParams(next);
              ownEntry.current = false;
            }}
          >
            <option value="">All categories</option>
            {options.map((c, i) => (
              <option key={c} value={c}>
                {labels[i]}
              </option>
            ))}
          </select>
        </div>
      </form>
      {/* The categories failing alone left "All categories" the only choice, and nothing said why. With the whole
          catalog failing, its own Try again asks for them too. */}
      {categories.isError && !products.isError && (
        <div className="filters-error" role="alert">
          <p className="error">The categories could not be loaded, so the Category filter has none.</p>
          <button type="button" onClick={() => void categories.refetch().then((r) => r.isSuccess && focusAfterRender(`[id="${categoryId}"]`))}>
            Try again
          </button>
        </div>
      )}
      <h2 className="visually-hidden">Products</h2>
      {/* Always present (also while loading), so the grid below never moves when the count appears; a search that
          finds nothing is said here too, so a screen reader typing in Search hears it (a message drawn apart was silent). */}
      <p className={none ? 'count empty' : 'count'} role="status">
        {loading
          ? 'Loading products…'
          : items.length > 0
            ? `${countOf(items.length, 'product')}${products.hasNextPage ? ' so far' : ''}`
            : none
              ? `No products match${q ? ` “${q}”` : ''}${category ? ` in ${category}` : ''}.`
              : ''}
      </p>
      {loading ? (
        <SkeletonGrid />
      ) : products.isError && items.length === 0 ? (
        <ErrorState message="The catalog is unavailable right now. Your cart is safe; please try again in a moment." retry={() => {
            void products.refetch();
            // The category list failed with the catalog: asked again with it, or it stays empty until the page is left.
            if (categories.isError) void categories.refetch();
          }}
        />
      ) : none ? null : (
        <>
          {/* Products shown and reading them again failed (a refetch): they stay, said to be maybe not the latest. */}
          {products.isRefetchError && <NotLatest retry={() => void products.refetch()} />}
          <ul className="grid">
            {items.map((p, i) => (
              <ProductCard key={p.id} product={p} eager={i < 4} />
            ))}
          </ul>
          {products.hasNextPage && (
            <div className="more">
              <button
                type="button"
                onClick={() => {
                  // The focus goes to the first product loaded (the button may go with the last page). Busy, the button
                  // keeps the focus (aria-disabled: disabled, it dropped it to the page's body on a slow network) and a
                  // press meanwhile waits for the same page (cancelRefetch: false; it asked for it again).
                  const shown = items.length;
                  // A next page that could not load keeps the products shown (it took them all away, for "The catalog
                  // is unavailable"): said under them, and the focus back on the button, which tries again.
                  void products.fetchNextPage({ cancelRefetch: false }).then((r) => focusAfterRender(r.isFetchNextPageError ? '#load-more' : `ul.grid > li:nth-child(${shown + 1}) a`));
                }}
                aria-disabled={products.isFetchingNextPage || undefined}
                id="load-more"
              >
                {products.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
              {products.isFetchNextPageError && (
                <p className="error" role="alert">
                  More products could not be loaded just now; press Load more to try again.
                </p>
              )}
            </div>
          )}
        </>
      )}
    </>
  );
}
