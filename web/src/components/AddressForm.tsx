/**
 * Where a poster goes: the shipping address, typed by the fan and checked here before Pay (the
 * service checks it again: lengths and an ISO 3166 country). Its own form, not Stripe's Address
 * Element: it works the same offline and needs no extra Stripe.js component.
 */

import { useMemo } from 'react';
import { countries } from '../countries';

export interface Address {
  name: string;
  line1: string;
  line2: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
}

export type AddressField = keyof Address;
export type AddressErrors = Partial<Record<AddressField, string>>;

export const EMPTY_ADDRESS: Address = {
  name: '',
  line1: '',
  line2: '',
  city: '',
  state: '',
  postalCode: '',
  country: 'US',
};

const FIELDS: {
  key: AddressField;
  label: string;
  max: number;
  required: boolean;
  autoComplete: string;
}[] = [
  { key: 'name', label: 'Full name', max: 200, required: true, autoComplete: 'shipping name' },
  {
    key: 'line1',
    label: 'Street address',
    max: 200,
    required: true,
    autoComplete: 'shipping address-line1',
  },
  {
    key: 'line2',
    label: 'Apartment, suite, etc. (optional)',
    max: 200,
    required: false,
    autoComplete: 'shipping address-line2',
  },
  { key: 'city', label: 'City', max: 100, required: true, autoComplete: 'shipping address-level2' },
  {
    key: 'state',
    label: 'State, province or region (optional)',
    max: 100,
    required: false,
    autoComplete: 'shipping address-level1',
  },
  {
    key: 'postalCode',
    label: 'Postal or ZIP code',
    max: 20,
    required: true,
    autoComplete: 'shipping postal-code',
  },
];

/** The problems with an address, per field (empty when it can be sent). */
export function checkAddress(a: Address): AddressErrors {
  const errors: AddressErrors = {};
  for (const f of FIELDS) {
    const value = a[f.key].trim();
    if (f.required && value === '') errors[f.key] = `Enter the ${labelWord(f.label)}.`;
    else if (value.length > f.max) errors[f.key] = `At most ${f.max} characters.`;
  }
  if (!countries().some((c) => c.code === a.country)) errors.country = 'Choose a country.';
  return errors;
}

function labelWord(label: string): string {
  return label.replace(/ \(optional\)$/, '').toLowerCase();
}

/** The wire shape of `shippingAddress` (optional fields left out when empty). */
export function addressMessage(a: Address): Record<string, string> {
  const message: Record<string, string> = {
    name: a.name.trim(),
    line1: a.line1.trim(),
    city: a.city.trim(),
    postalCode: a.postalCode.trim(),
    country: a.country,
  };
  if (a.line2.trim()) message.line2 = a.line2.trim();
  if (a.state.trim()) message.state = a.state.trim();
  return message;
}

export function AddressForm({
  value,
  errors,
  onChange,
  disabled,
}: {
  value: Address;
  errors: AddressErrors;
  onChange: (next: Address) => void;
  disabled?: boolean;
}) {
  const list = useMemo(() => countries(), []);
  return (
    <fieldset className="address" disabled={disabled}>
      <legend>
        <h2>Ship the poster to</h2>
      </legend>
      {FIELDS.map((f) => {
        const id = `ship-${f.key}`;
        const error = errors[f.key];
        return (
          <div className="field" key={f.key}>
            <label htmlFor={id}>{f.label}</label>
            <input
              id={id}
              name={f.key}
              autoComplete={f.autoComplete}
              maxLength={f.max}
              required={f.required}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${id}-error` : undefined}
              value={value[f.key]}
              onChange={(e) => onChange({ ...value, [f.key]: e.target.value })}
            />
            {error && (
              <p className="field-error" id={`${id}-error`}>
                {error}
              </p>
            )}
          </div>
        );
      })}
      <div className="field">
        <label htmlFor="ship-country">Country</label>
        <select
          id="ship-country"
          name="country"
          autoComplete="shipping country"
          aria-invalid={errors.country ? true : undefined}
          aria-describedby={errors.country ? 'ship-country-error' : undefined}
          value={value.country}
          onChange={(e) => onChange({ ...value, country: e.target.value })}
        >
          {list.map((c) => (
            <option key={c.code} value={c.code}>
              {c.name}
            </option>
          ))}
        </select>
        {errors.country && (
          <p className="field-error" id="ship-country-error">
            {errors.country}
          </p>
        )}
      </div>
    </fieldset>
  );
}
