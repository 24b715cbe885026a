import { describe, expect, it } from 'vitest';
import { addressMessage, checkAddress, EMPTY_ADDRESS } from '../src/components/AddressForm';
import { countries, countryName, isCountry } from '../src/countries';

const ADA = {
  ...EMPTY_ADDRESS,
  name: ' Ada Lovelace ',
  line1: "12 St James's Square",
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
};

describe('the shipping address', () => {
  it('needs a name, a street, a city, a postal code and a real country', () => {
    expect(checkAddress(ADA)).toEqual({});
    const missing = checkAddress({ ...EMPTY_ADDRESS, country: 'ZZ' });
    expect(Object.keys(missing).sort()).toEqual(['city', 'country', 'line1', 'name', 'postalCode']);
    expect(missing.name).toBe('Enter the full name.');
  });

  it('keeps to the service limits', () => {
    expect(checkAddress({ ...ADA, postalCode: '1'.repeat(21) }).postalCode).toBe(
      'At most 20 characters.',
    );
    expect(checkAddress({ ...ADA, line2: 'x'.repeat(201) }).line2).toBe('At most 200 characters.');
  });

  it('is sent trimmed, optional fields left out when empty', () => {
    expect(addressMessage({ ...ADA, line2: '  ', state: '' })).toEqual({
      name: 'Ada Lovelace',
      line1: "12 St James's Square",
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    });
    expect(addressMessage({ ...ADA, state: ' CA ' }).state).toBe('CA');
  });
});

describe('countries', () => {
  it('are the ISO 3166-1 list, named for people', () => {
    expect(countries()).toHaveLength(250);
    expect(isCountry('FR')).toBe(true);
    expect(isCountry('ZZ')).toBe(false);
    expect(countryName('DE')).toBe('Germany');
  });
});
