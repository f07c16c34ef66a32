// One titled card of the admin page.
import type { ReactNode } from 'react';

export function Section({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  const id = `admin-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section aria-labelledby={id} className="rounded-2xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900/60">
      <h2 id={id} className="text-lg font-semibold">
        {title}
      </h2>
      <p className="mt-1 mb-4 text-sm text-slate-500 dark:text-slate-400">{description}</p>
      {children}
    </section>
  );
}
