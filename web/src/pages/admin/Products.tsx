// The admin's Products page: the New product form and the list of products, each with its Edit link.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ok, productApi } from '../../api/client.js';
import { MAX_SEARCH, catalogCategory, catalogPage, catalogText } from '../../catalog-query.js';
import { categoriesQuery } from '../../categories.js';
import { ErrorState, Loading } from '../../components.js';
import { heard, useOneAtATime } from '../../page-parts.js';
import { formatMoney } from '../../money.js';
import { ProductForm } from './ProductForm.js';
import { newDraft } from './kept-drafts.js';
import { ActionMessage, failureText } from './messages.js';
import { EMPTY, FieldError, fieldErrorsOf, parseFields, saidAtFields, type ProductFields } from './product-fields.js';
import { ColumnHeads, PagedTable } from './tables.js';

/**
 * A product's name in a sentence, isolated: one in a right-to-left script (begun by a digit, ended by a bang) keeps its
 * own direction instead of spilling into the words around it ("Created 3 مصابيح مكتب!." put the 3 on its left).
 */
function named(name: string | null): ReactNode {
  return name === null ? 'the product' : <bdi>{name}</bdi>;
}

export function Products() {
  useEffect(() => {
    document.title = 'Products: Admin: Northwind Supply';
  }, []);
  const queries = useQueryClient();
  const location = useLocation();
  const navigate = useNavigate();
  // What the page that sent us here did ("Archived ..."): said once, at the list the product left (where the
  // admin looks next, not under the create form), then dropped from the history entry so a reload, Back or
  // Forward does not say it again.
  const [said, setSaid] = useState<{ kind: 'ok'; text: ReactNode } | null>(() => {
    const state = location.state as { archived?: unknown; already?: unknown } | null;
    const archived = state?.archived;
    if (typeof archived !== 'string' && archived !== null) return null;
    return {
      kind: 'ok',
      text: state?.already === true ? <>{named(archived)} was archived already: someone else archived it after its page was opened.</> : <>Archived {named(archived)}.</>,
    };
  });
  // What the create form did, said under it.
  const [message, setMessage] = useState<{ kind: 'error' | 'ok'; text: ReactNode } | null>(null);
  useEffect(() => {
    if (location.state) void navigate({ pathname: location.pathname, search: location.search }, { replace: true, state: null });
  }, [location, navigate]);
  const [formKey, setFormKey] = useState(0);
  const [fields, setFields] = useState(newDraft.read);
  // The search (GET /product's q: words of the name or description; category: one exactly, as stored) is in the
  // address, so Back from a product's edit page comes to the list it was found in. Without one, a product past the
  // first 50 took Load more until it came.
  const [params, setParams] = useSearchParams();
  const q = catalogText(params.get('q') ?? '', MAX_SEARCH).trim();
  const category = catalogCategory(params.get('category') ?? '');
  const [searchText, setSearchText] = useState(q);
  const [categoryChoice, setCategoryChoice] = useState(category);
  const [seen, setSeen] = useState({ q, category });
  // The address changed the search (Back, Forward, the All products link): the fields follow it, during the render.
  if (q !== seen.q || category !== seen.category) {
    setSeen({ q, category });
    setSearchText(q);
    setCategoryChoice(category);
  }
  const categories = useQuery(categoriesQuery);
  // The shop's categories as stored ("Home" and "home" apart, as the admin's Category field spells them), and the
  // address's one if the list does not have it (yet).
  const categoryChoices = [...new Set([...(categories.data ?? []).filter((c): c is string => !!c), ...(category ? [category] : [])])];
  const searchId = useId();
  const categoryId = useId();
  const filtered = q !== '' || category !== '';
  const products = useInfiniteQuery({
    queryKey: ['products', 'admin', q, category],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => catalogPage({ q, category, limit: 50, cursor: pageParam }),
    getNextPageParam: (last) => last.nextCursor,
  });
  const create = useMutation({
    mutationFn: async (f: ProductFields) => {
      const body = parseFields(f);
      const stock = Number(f.stock);
      if (!Number.isInteger(stock) || stock < 0) throw new FieldError('stock', 'Stock must be a whole number, 0 or more.');
      return ok(await productApi.POST('/product', { body: { ...body, stock } }));
    },
    onSuccess: (p) => {
      setMessage({ kind: 'ok', text: <>Created {named(p.name)}.</> });
      newDraft.forget();
      setFields(EMPTY);
      setFormKey((k) => k + 1);
      void queries.invalidateQueries({ queryKey: ['products'] });
      void queries.invalidateQueries({ queryKey: ['categories'] });
    },
    onError: (err) => setMessage(saidAtFields(err) ? null : { kind: 'error', text: failureText(err) }),
  });
  const createOnce = useOneAtATime(create);
  const items = products.data?.pages.flatMap((p) => p.items) ?? [];
  // Products whose names sound alike (two called "Mug"): their Edit links say the SKU too, so no two are named alike.
  const alike = new Set(items.map((p) => heard(p.name)).filter((n, i, all) => all.indexOf(n) !== i));
  return (
    <>
      <section className="panel" aria-labelledby="create-h">
        <h2 id="create-h">New product</h2>
        <ProductForm
          key={formKey}
          initial={EMPTY}
          value={fields}
          onValue={(f) => {
            setFields(f);
            newDraft.keep(f);
          }}
          withStock
          submitLabel="Create product"
          busy={create.isPending}
          onSubmit={(f) => {
            // The archive note is old news once the admin moves on: what the form does is said under it.
            setSaid(null);
            createOnce(f);
          }}
          errors={fieldErrorsOf(create.error)}
          attempt={create.submittedAt}
        />
        {message && <ActionMessage message={message} />}
      </section>
      <section aria-labelledby="products-h">
        <h2 id="products-h">Products</h2>
        {said && <ActionMessage message={said} />}
        <form
          className="inline-form"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            const next = catalogText(searchText, MAX_SEARCH).trim();
            setParams({ ...(next ? { q: next } : {}), ...(categoryChoice ? { category: categoryChoice } : {}) });
          }}
        >
          <div className="field grow">
            <label htmlFor={searchId}>Search products</label>
            <input id={searchId} type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} maxLength={MAX_SEARCH} placeholder="a word of the name or description" />
          </div>
          <div className="field category-filter">
            <label htmlFor={categoryId}>Category</label>
            <select id={categoryId} value={categoryChoice} onChange={(e) => setCategoryChoice(e.target.value)}>
              <option value="">All categories</option>
              {categoryChoices.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Search</button>
        </form>
        {products.isPending ? (
          <Loading />
        ) : products.isError && !products.data ? (
          <ErrorState message="The product service is unavailable right now." retry={() => void products.refetch()} />
        ) : filtered && items.length === 0 ? (
          <p className="empty">
            No products match {q && <>“<bdi>{q}</bdi>”</>}
            {q && category && ' '}
            {category && <>in the category “<bdi>{category}</bdi>”</>}. <Link to="/admin">All products</Link>
          </p>
        ) : (
          <PagedTable label="Products table" list={products} shown={items.length} section="products-h">
            <ColumnHeads names={['Name', 'SKU', 'Price', 'Stock', 'Category']} hidden="Actions" />
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <th scope="row">{p.name}</th>
                  <td className="text">{p.sku}</td>
                  <td>{formatMoney(p.priceCents, p.currency)}</td>
                  <td>{p.stock.toLocaleString('en')}</td>
                  <td className="text">{p.category ?? '—'}</td>
                  <td>
                    <Link to={`/admin/products/${p.id}`} aria-label={alike.has(heard(p.name)) ? `Edit ${p.name}, SKU ${p.sku}` : `Edit ${p.name}`}>
                      Edit
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </PagedTable>
        )}
      </section>
    </>
  );
}
