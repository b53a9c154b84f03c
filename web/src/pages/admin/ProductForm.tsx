// The product form of New product and of a product's edit page: its fields, each refusal said under its field.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { categoriesQuery } from '../../categories.js';
import { FIELD_LABEL, categoryInOtherCase, type FieldErrors, type ProductFields } from './product-fields.js';

export function ProductForm({
  initial,
  value,
  onValue,
  withStock,
  submitLabel,
  onSubmit,
  busy,
  errors = {},
  attempt = 0,
}: {
  initial: ProductFields;
  /** The fields held by the page instead (the edit page keeps them across sessions and newer versions): then `initial` is unused. */
  value?: ProductFields;
  onValue?: (f: ProductFields) => void;
  withStock: boolean;
  submitLabel: string;
  onSubmit: (f: ProductFields) => void;
  busy: boolean;
  /** What the last save said of each field: shown under it and tied to it (aria-invalid, aria-describedby). */
  errors?: FieldErrors;
  /** Which save `errors` are from (its mutation's submittedAt): a new refusal is shown even if it says the same. */
  attempt?: number;
}) {
  // The fields are the admin's until the form is remounted (its key): typing elsewhere, a stock change or a
  // refused save keeps them.
  const [own, setOwn] = useState(initial);
  const f = value ?? own;
  const setF = onValue ?? setOwn;
  const id = useId();
  // A field changed since the save that refused it is no longer marked: its message was about the old value.
  const errorsKey = JSON.stringify([attempt, errors]);
  const form = useRef<HTMLFormElement>(null);
  // A refusal puts the focus on the first field it marks (whose description says why) when it was on the pressed
  // button (kept there while the save runs) or fell to the page. A focus the admin moved elsewhere is left alone.
  useEffect(() => {
    const at = document.activeElement;
    if (at && at !== document.body && at !== form.current?.querySelector('button[type="submit"]')) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errorsKey]);
  const [edited, setEdited] = useState<{ for: string; keys: Set<keyof ProductFields> }>({ for: errorsKey, keys: new Set() });
  if (edited.for !== errorsKey) setEdited({ for: errorsKey, keys: new Set() });
  const shown = (key: keyof ProductFields) => (edited.for === errorsKey && edited.keys.has(key) ? undefined : errors[key]);
  const change = (key: keyof ProductFields, value: string) => {
    setF({ ...f, [key]: value });
    if (errors[key] && !edited.keys.has(key)) setEdited({ for: errorsKey, keys: new Set([...edited.keys, key]) });
  };
  const described = (key: keyof ProductFields) => (shown(key) ? { 'aria-invalid': true, 'aria-describedby': `${id}-${key}-error` } : {});
  const fieldError = (key: keyof ProductFields) =>
    shown(key) && (
      // The one place the reason is written: an alert, so it is heard when it appears (a save refused with
      // the focus in another field), and the field's description, heard on the field.
      <p id={`${id}-${key}-error`} className="error field-error" role="alert">
        {shown(key)}
      </p>
    );
  // A category that differs from one of the shop's in case only ("Home" for "home") is said under its field.
  const categories = useQuery(categoriesQuery);
  const otherCase = categoryInOtherCase(f.category, categories.data ?? []);
  const field = (key: keyof ProductFields, label: string, props: Record<string, unknown> = {}) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input id={`${id}-${key}`} value={f[key]} onChange={(e) => change(key, e.target.value)} {...props} {...described(key)} />
      {fieldError(key)}
    </div>
  );
  return (
    <form
      ref={form}
      className="product-form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onSubmit(f);
      }}
    >
      {/* No pattern: the browser's refusal of one says only "Please match the requested format.", in a bubble no screen
          reader hears; the service's says what is wrong (spaces, invisible characters), at the field like any refusal. */}
      {field('sku', FIELD_LABEL.sku, { required: true, maxLength: 64, autoComplete: 'off' })}
      {field('name', 'Name', { required: true, maxLength: 200 })}
      <div className="field span">
        <label htmlFor={`${id}-description`}>Description</label>
        <textarea id={`${id}-description`} value={f.description} onChange={(e) => change('description', e.target.value)} maxLength={5000} rows={3} {...described('description')} />
        {fieldError('description')}
      </div>
      {field('price', 'Price', { required: true, inputMode: 'decimal' })}
      {field('currency', 'Currency', { required: true, maxLength: 3, minLength: 3 })}
      {withStock && field('stock', 'Stock', { required: true, type: 'number', min: 0 })}
      <div className="field">
        <label htmlFor={`${id}-category`}>Category</label>
        {/* The shop's categories offered as the admin types: "Home" typed beside the shop's "home" made a category of
            its own, a second "Home" in the shop's Category list with only this product in it. */}
        <input
          id={`${id}-category`}
          value={f.category}
          onChange={(e) => change('category', e.target.value)}
          maxLength={64}
          list={`${id}-categories`}
          autoComplete="off"
          {...described('category')}
          {...(otherCase && !shown('category') ? { 'aria-describedby': `${id}-category-case` } : {})}
        />
        <datalist id={`${id}-categories`}>
          {(categories.data ?? []).map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        {otherCase && !shown('category') && (
          <p id={`${id}-category-case`} className="hint">
            The shop has the category “<bdi>{otherCase}</bdi>”: “<bdi>{f.category.trim()}</bdi>” would be another one, listed apart in the
            shop.{' '}
            {/* Named in one piece: the <bdi> inside put spaces in its heard name ("Use “ home ”"). */}
            <button type="button" className="link-button" aria-label={`Use “${otherCase}”`} onClick={() => change('category', otherCase)}>
              Use “<bdi>{otherCase}</bdi>”
            </button>
          </p>
        )}
        {fieldError('category')}
      </div>
      <div className="span">
        {/* Busy, it keeps the focus (aria-disabled; the page ignores a press meanwhile): disabled, it dropped the
            focus to the page's body until the answer came. */}
        <button type="submit" className="primary" aria-disabled={busy || undefined}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
