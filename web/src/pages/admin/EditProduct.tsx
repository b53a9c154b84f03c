// A product's admin edit page: the edit form saved with If-Match (a concurrent change: the 412, the draft moved onto
// the newer version, edit-draft.ts), the Stock panel and Archive.
import { useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, hasAccessToken, isTimeout, namesNothing, ok, productApi, productQuery, type Product } from '../../api/client.js';
import { NotLatest, focusAfterRender } from '../../components.js';
import { NotFound, useOneAtATime } from '../../page-parts.js';
import { userSignedOut } from '../../session.js';
import { MAX_STOCK, stockChangeProblem, stockRefusal } from '../../stock-change.js';
import { ProductForm } from './ProductForm.js';
import { EDITABLE, LABEL, freshDraft, listOf, rebase, typedKeys, type Draft, type Editable } from './edit-draft.js';
import { keptDraft } from './kept-drafts.js';
import { ActionMessage, failureText, notYet } from './messages.js';
import { fieldErrorsOf, fieldsOf, parseFields, saidAtFields, type ProductFields } from './product-fields.js';

/** A save or stock change answered 404 on the edit page of a product it showed: archived since (by another admin, a tab). */
const ARCHIVED_MEANWHILE = 'this product was archived after this page was opened, so it can no longer be changed.';

/**
 * Why a stock change was refused: a 409 in a sentence (stockRefusal: the service says only "Only 3 unit(s) are in
 * stock to remove", and sends the stock left as `available`, and a restock's refusal the units held by orders as `held`); a 400 about the change itself in the field's name, not
 * the API's `delta`; anything else as any failure.
 */
function stockRefusalText(err: Error, delta: number): string {
  if (err instanceof ApiError && err.status === 404) return `Stock not changed: ${ARCHIVED_MEANWHILE}`;
  const problem = err instanceof ApiError && err.status === 409 ? (err.problem as { available?: unknown; held?: unknown } | undefined) : undefined;
  if (typeof problem?.available === 'number') return stockRefusal(delta, problem.available, typeof problem.held === 'number' ? problem.held : 0);
  if (err instanceof ApiError && err.problem?.errors?.some((e) => e.path === '/delta')) return `Stock change must be a whole number from -${MAX_STOCK.toLocaleString('en')} to ${MAX_STOCK.toLocaleString('en')}, other than 0.`;
  return failureText(err);
}

/**
 * What the admin is told when someone else's version reached the form: what it shows now, what kept the admin's
 * typing (and what they saved there), and what to do. Nothing typed was lost.
 */
function changedNote(r: ReturnType<typeof rebase>): ReactNode {
  const { draft, theirs, clashes } = r;
  const typed = typedKeys(draft).length > 0;
  const saved = (k: Editable) => {
    const text = draft.base[k];
    return text === '' ? 'they cleared it' : <>they saved “<bdi>{text.length > 80 ? `${text.slice(0, 79)}…` : text}</bdi>”</>;
  };
  return (
    <>
      This product was changed by someone else while this page was open (it is now version {draft.version}).
      {theirs.length > 0 && <> The form shows their {listOf(theirs.map((k) => LABEL[k]))}.</>}
      {clashes.map((k) => (
        <span key={k}>
          {' '}
          {LABEL[k]} keeps what you typed; {saved(k)}.
        </span>
      ))}
      {typed && ' What you typed is kept and not saved yet: check the form, then press Save changes.'}
    </>
  );
}

type Panel = 'edit' | 'stock' | 'archive';
type Message = { kind: 'error' | 'ok'; text: string; quiet?: boolean };
type Said = Record<Panel, Message | null>;

/** Someone else's version that reached the form, or an edit kept from before and put back: said under a button. */
type Note = { kind: 'changed' | 'restored'; text: ReactNode; panel: 'edit' | 'stock' };

/**
 * A panel's status line, under its button: its place is kept, one line tall, while it says nothing, so "Saved."
 * shown or taken away does not move the panels under it (their buttons under the pointer). The form's note (Note)
 * follows the message in the line of the panel it is said in.
 */
function StatusLine({ message, id, note }: { message: Message | null; id?: string; note?: Note | null }) {
  return (
    <div className="status-line">
      {message && <ActionMessage message={message} id={id} />}
      {note && (
        <p className={note.kind === 'changed' ? 'warning' : 'ok'} role={note.kind === 'changed' ? 'alert' : 'status'}>
          {note.text}
        </p>
      )}
    </div>
  );
}

export function EditProduct() {
  const { id = '' } = useParams();
  const queries = useQueryClient();
  const navigate = useNavigate();
  // Each panel's own last result, said in its status line under its button (where the admin is looking). One
  // message for the page moved the panels under it: "Saved." taken away when the stock answer came pulled the
  // Stock panel up, Adjust stock with it, out from under the pointer.
  const [said, setSaid] = useState<Said>({ edit: null, stock: null, archive: null });
  // Quiet: the focus stays on the button pressed, which keeps it while the answer is on its way (aria-disabled), or in
  // the field typed in meanwhile; a message that took it scrolled the page to show it when under the screen's edge,
  // the button with it. It is heard as a status (an alert) all the same, and takes the focus only if it fell.
  const say = (panel: Panel, message: Message | null) => setSaid((s) => ({ ...s, [panel]: message && { ...message, quiet: true } }));
  const [delta, setDelta] = useState('');
  // The field's text now, for a stock change's answer (typed meanwhile: the admin's next change).
  const deltaNow = useRef(delta);
  useLayoutEffect(() => {
    deltaNow.current = delta;
  });
  const [confirmArchive, setConfirmArchive] = useState(false);
  const deltaId = useId();
  const product = useQuery({
    ...productQuery(id),
    staleTime: 0,
  });
  const name = product.data?.name;
  const missing = namesNothing(product.error);
  // The form's fields, with the version they are over (Draft). Said under a button (Note): someone else's version
  // that reached it, or an edit kept when the session ended and put back now. In the status line of the panel last
  // pressed, whose answer (a stock change's, a 412's re-read) brought it in; the form's before any press. Above the
  // form, it came with a stock answer and pushed Adjust stock 92 px down at 1280x900, and went with a save and
  // pulled Save changes 92 px up, each out from under the pointer.
  const [draft, setDraft] = useState<Draft | null>(null);
  const [note, setNote] = useState<Note | null>(null);
  const [pressed, setPressed] = useState<Note['panel']>('edit');
  const [took, setTook] = useState(false);
  const read = product.data?.id === id && !missing ? product.data : undefined;
  if (read && (draft?.productId !== id || read.version > draft.version)) {
    // The first read, or a newer version (a stock change's answer, a re-read, a 412's). An edit kept when the
    // session ended comes back first; then what was typed stays over the newer version, and the admin is told when
    // that changed what the form is about (a stock change alone moves the version only).
    const kept = draft?.productId === id ? null : keptDraft.read(id);
    const from = draft?.productId === id ? draft : kept;
    const moved = from && read.version > from.version ? rebase(from, read) : null;
    const changed = moved !== null && EDITABLE.some((k) => moved.draft.base[k] !== from!.base[k]);
    setDraft(moved?.draft ?? from ?? freshDraft(read));
    if (kept) setTook(true);
    const back = kept && `The changes you typed before ${kept.left ? 'leaving this page' : 'your session ended'} are back in the form. They are not saved yet: check them, then press Save changes. `;
    if (changed) setNote({ kind: 'changed', text: <>{back}{changedNote(moved)}</>, panel: pressed });
    else if (back) setNote({ kind: 'restored', text: back.trim(), panel: pressed });
    else if (draft?.productId !== id) setNote(null);
  }
  // Taken: forgotten, so it does not come back on a later visit.
  useEffect(() => {
    if (took) keptDraft.forget();
  }, [took]);
  // The page goes when the session ends (the admin area asks to sign in): unsaved typing is kept for after that.
  // Left while signed in (View in the shop, All products, Back) it is kept too, for Back or Forward to this page:
  // it was read afresh there, the typing gone with no word of it. Not once the product is archived.
  // Layout effects: the admin area's sign-in notice reads the kept edit in its own, run after these on unmount.
  const latest = useRef(draft);
  const archived = useRef(false);
  useLayoutEffect(() => {
    latest.current = draft;
  });
  useLayoutEffect(
    () => () => {
      const d = latest.current;
      // Not after a sign-out: a shared computer's next user would find it (forgetUser in session.ts).
      if (d && !archived.current && !userSignedOut() && typedKeys(d).length > 0) keptDraft.keep({ ...d, left: hasAccessToken() || undefined });
    },
    [],
  );
  useEffect(() => {
    if (name !== undefined) document.title = `Edit ${name}: Admin: Northwind Supply`;
    else if (missing) document.title = 'Product not found: Admin: Northwind Supply';
  }, [name, missing]);
  const after = (p: Product, text: string, panel: 'edit' | 'stock') => {
    queries.setQueryData(productQuery(id).queryKey, p);
    void queries.invalidateQueries({ queryKey: ['products'] });
    say(panel, { kind: 'ok', text });
  };
  const fail = (panel: Panel) => (err: Error) => say(panel, { kind: 'error', text: failureText(err) });
  const save = useMutation({
    mutationFn: async ({ f, version, base }: { f: ProductFields; version: number; base: ProductFields }) => {
      const body = parseFields(f);
      // If-Match: the edit applies only to the version the form's fields are over.
      const patch = (v: number) => productApi.PATCH('/product/{id}', { params: { path: { id }, header: { 'if-match': `"${v}"` } as never }, body });
      let res = await patch(version);
      // The version counts stock changes too (every order, the Stock panel): a 412 whose latest version has the
      // form's fields as they were read changed nothing the admin has to check, and the edit goes over it (a few
      // times at most while orders keep coming). A field someone else changed is refused as before.
      for (let tries = 0; tries < 3 && res.response.status === 412; tries++) {
        const latest = (await productApi.GET('/product/{id}', { params: { path: { id } } })).data;
        if (!latest) break;
        const fields = fieldsOf(latest);
        if (EDITABLE.some((k) => fields[k] !== base[k])) break;
        res = await patch(latest.version);
      }
      return ok(res);
    },
    onSuccess: (p, { f }) => {
      // What the admin typed while the save was on its way (a slow network) stays in its field, not yet saved: the
      // form was refilled with what was saved, and that typing was gone with no word of it.
      const saved = freshDraft(p);
      const now = latest.current;
      const typed = now?.productId === id ? EDITABLE.filter((k) => now.fields[k] !== f[k]) : [];
      for (const k of typed) saved.fields[k] = now!.fields[k];
      after(p, typed.length ? `Saved. What you typed in ${listOf(typed.map((k) => LABEL[k]))} while it was saving is not saved yet: press Save changes again to save it.` : 'Saved.', 'edit');
      setDraft(saved);
      setNote(null);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.status === 412) {
        // Read again: the form moves onto the latest version, keeping what was typed (said under Save changes when the fields changed).
        say('edit', { kind: 'error', text: 'Not saved: this product was changed by someone else since the form was read. What you typed is kept; check the form against the latest version, then press Save changes again.' });
        void product.refetch();
      } else if (err instanceof ApiError && err.status === 404) say('edit', { kind: 'error', text: `Not saved: ${ARCHIVED_MEANWHILE}` });
      else if (saidAtFields(err)) say('edit', null);
      else fail('edit')(err);
    },
  });
  const adjust = useMutation({
    // One key per adjustment: a retry after a lost answer (a 504 while the write still committed, a dropped
    // connection) is applied once by the product service.
    mutationFn: async (d: number) => {
      const key = crypto.randomUUID();
      const send = () => productApi.POST('/product/{id}/stock', { params: { path: { id }, header: { 'idempotency-key': key } }, body: { delta: d } });
      for (const wait of [500, 1500, 3000]) {
        let res: Awaited<ReturnType<typeof send>> | undefined;
        try {
          res = await send();
        } catch (err) {
          // No answer in WRITE_TIMEOUT_MS: the shop is stuck, said now (it may have made the change) rather than
          // after three more such waits. A dropped connection: the same key again.
          if (isTimeout(err)) throw err;
        }
        // An answer other than 503/504 is final (a 409 or 400 the same next time): shown at once, not retried.
        if (res && res.response.status !== 503 && res.response.status !== 504) return ok(res);
        await new Promise((r) => setTimeout(r, wait));
      }
      return ok(await send());
    },
    onSuccess: (p, d) => {
      // A change typed while this one was on its way is the admin's next one: kept in the field, and the focus with it.
      if (Number(deltaNow.current) === d) setDelta('');
      after(p, `Stock is now ${p.stock.toLocaleString('en')}.`, 'stock');
    },
    onError: (err, d) => {
      // No answer, or none but the gateway's 504 (its deadline passed while the product service may have committed):
      // the change may have been made. Pressing again is another change (a key of its own), so the message says to
      // look at the stock first, and the heading is read again to show it. A shop that cannot be reached is said so.
      const unanswered = isTimeout(err) || (err instanceof ApiError && err.status === 504);
      say('stock', { kind: 'error', text: unanswered ? 'The shop did not answer in time, so the change may have been made: check the stock above before trying again.' : stockRefusalText(err, d) });
      // Refused for the stock there is: the panel's heading shows it as it is now (orders move it meanwhile).
      if (unanswered || (err instanceof ApiError && err.status === 409)) void product.refetch();
    },
  });
  const archive = useMutation({
    mutationFn: async () => {
      const res = await productApi.DELETE('/product/{id}', { params: { path: { id } } });
      if (res.response.status !== 204) throw new ApiError(res.response.status, res.error as never);
    },
    onSuccess: () => {
      archived.current = true;
      void queries.invalidateQueries({ queryKey: ['products'] });
      void navigate('/admin', { state: { archived: name ?? null } });
    },
    onError: (err) => {
      // 404: archived since this page was opened (another admin, another tab). What was asked is done: the list,
      // saying so, not "Product not found" under the Archive panel of the product the page still shows.
      if (err instanceof ApiError && err.status === 404) {
        archived.current = true;
        void queries.invalidateQueries({ queryKey: ['products'] });
        void navigate('/admin', { state: { archived: name ?? null, already: true } });
      } else fail('archive')(err);
    },
  });
  const saveOnce = useOneAtATime(save);
  const adjustOnce = useOneAtATime(adjust);
  const archiveOnce = useOneAtATime(archive);
  if (!product.data || missing)
    return notYet(
      product,
      'Loading product',
      <NotFound title="Product not found">
        It was archived, or never existed. <Link to="/admin">All products</Link>
      </NotFound>,
    );
  const p = product.data;
  const keepProduct = () => {
    setConfirmArchive(false);
    focusAfterRender('#archive-start');
  };
  return (
    <>
      {product.isError && <NotLatest retry={() => void product.refetch()} />}
      <p>
        <Link to="/admin">All products</Link>
      </p>
      <section className="panel" aria-labelledby="edit-h">
        <h2 id="edit-h">
          Edit <bdi>{p.name}</bdi>
        </h2>
        <p className="meta">
          Version {p.version} · <Link to={`/products/${p.id}`}>View in the shop</Link>
        </p>
        {draft && (
          <ProductForm
            initial={draft.fields}
            value={draft.fields}
            onValue={(fields) => {
              setDraft({ ...draft, fields });
              // "Saved." is about the form as it was saved: edited since, it would call the new typing saved.
              if (said.edit?.kind === 'ok') say('edit', null);
            }}
            withStock={false}
            submitLabel="Save changes"
            busy={save.isPending}
            onSubmit={(f) => {
              setPressed('edit');
              saveOnce({ f, version: draft.version, base: draft.base });
            }}
            errors={fieldErrorsOf(save.error)}
            attempt={save.submittedAt}
          />
        )}
        <StatusLine message={said.edit} note={note?.panel === 'edit' ? note : null} />
      </section>
      <section className="panel" aria-labelledby="stock-h">
        <h2 id="stock-h">Stock: {p.stock.toLocaleString('en')}</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const problem = stockChangeProblem(delta, p.stock);
            if (problem) say('stock', { kind: 'error', text: problem });
            else {
              setPressed('stock');
              adjustOnce(Number(delta));
            }
          }}
        >
          <div className="field">
            <label htmlFor={deltaId}>Stock change</label>
            {/* A refusal is about what was typed: the field is marked and described by it (heard on the field). */}
            <input id={deltaId} type="number" value={delta} onChange={(e) => {
                setDelta(e.target.value);
                // Its refusal was about the old text, as the edit form's field errors.
                if (said.stock?.kind === 'error') say('stock', null);
              }} placeholder="+10 or -3" {...(said.stock?.kind === 'error' ? { 'aria-invalid': true, 'aria-describedby': `${deltaId}-said` } : {})} />
          </div>
          {/* Busy, these keep the focus (aria-disabled; adjustOnce and archiveOnce ignore a press meanwhile): disabled,
              they dropped it to the page's body until the answer came. */}
          <button type="submit" aria-disabled={adjust.isPending || undefined}>
            Adjust stock
          </button>
        </form>
        <StatusLine message={said.stock} id={`${deltaId}-said`} note={note?.panel === 'stock' ? note : null} />
      </section>
      <section className="panel" aria-labelledby="archive-h">
        <h2 id="archive-h">Archive</h2>
        <p>Archived products leave the shop; orders that have them keep them.</p>
        {confirmArchive ? (
          // Escape is "Keep it", as in a dialog: the focus goes back to the button that asked.
          <div className="confirm" role="group" aria-label="Confirm archive" onKeyDown={(e) => e.key === 'Escape' && !archive.isPending && keepProduct()}>
            {/* A double click on Archive product ends here: its second click, on this button that took the first's
                place, is no answer to the question (a click's detail counts the clicks of a double click). */}
            <button id="archive-confirm" type="button" className="danger" onClick={(e) => e.detail > 1 || archiveOnce()} aria-disabled={archive.isPending || undefined}>
              Yes, archive it
            </button>
            <button type="button" onClick={keepProduct}>
              Keep it
            </button>
          </div>
        ) : (
          // Each step replaces the button that was pressed: the focus goes to the next one, not the page's start.
          <button
            id="archive-start"
            type="button"
            onClick={() => {
              setConfirmArchive(true);
              focusAfterRender('#archive-confirm');
            }}
          >
            Archive product
          </button>
        )}
        <StatusLine message={said.archive} />
      </section>
    </>
  );
}
