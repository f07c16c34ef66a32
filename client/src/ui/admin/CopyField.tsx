// A read-only field with a Copy button beside it: what an admin hands over (an invitation link,
// a password reset link).
import { useState } from 'react';

export const fieldClass =
  'block w-full rounded-xl border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 focus:border-accent-500 focus:ring-2 focus:ring-accent-500/30 focus:outline-none dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100';

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
      className="shrink-0 rounded-lg bg-accent-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-accent-700"
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

export function CopyField({ value, name, label }: { value: string; name: string; label: string }) {
  return (
    <div className="flex items-center gap-2">
      <input readOnly aria-label={name} value={value} className={`${fieldClass} font-mono`} onFocus={(e) => e.target.select()} />
      <CopyButton text={value} label={label} />
    </div>
  );
}
