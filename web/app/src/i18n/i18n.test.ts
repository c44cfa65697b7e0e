import { describe, expect, it } from 'vitest';
import en from './en';
import es from './es';

function keys(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

describe('i18n', () => {
  it('es and en have exactly the same keys', () => {
    const a = keys(es).sort();
    const b = keys(en).sort();
    expect(b.filter((k) => !a.includes(k))).toEqual([]);
    expect(a.filter((k) => !b.includes(k))).toEqual([]);
  });

  it('no message is empty and placeholders match between languages', () => {
    const get = (obj: object, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
    for (const k of keys(es)) {
      const a = String(get(es, k));
      const b = String(get(en, k));
      expect(a.length, k).toBeGreaterThan(0);
      expect(b.length, k).toBeGreaterThan(0);
      const vars = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
      expect(vars(b), k).toEqual(vars(a));
    }
  });

  it('statuses are in Spanish', () => {
    expect(Object.values(es.status)).toEqual(['Nuevo', 'En progreso', 'En espera', 'Resuelto', 'Cerrado']);
    expect(es.auth.username).toBe('Usuario');
    expect(es.auth.password).toBe('Contraseña');
    expect(en.auth.username).toBe('Username');
    expect(en.auth.password).toBe('Password');
  });
});
