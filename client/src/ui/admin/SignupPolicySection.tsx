// Who may create an account: open, by invitation, or nobody. Saved as soon as it is chosen.
import { useId, useState } from 'react';
import { useAdminSettingsQuery, useUpdateAdminSettingsMutation } from '../../api/admin';
import { errorText } from '../../api/http';
import type { SignupPolicy } from '../../api/types';
import { Section } from './Section';

const CHOICES: { value: SignupPolicy; label: string; hint: string }[] = [
  { value: 'open', label: 'Open', hint: 'Anyone who can reach this server can create an account.' },
  { value: 'invite', label: 'Invitation only', hint: 'New accounts need an invitation from you.' },
  { value: 'closed', label: 'Closed', hint: 'Nobody can create an account.' },
];

export function SignupPolicySection() {
  const { data, error, isLoading } = useAdminSettingsQuery();
  const [update, { isLoading: saving, error: saveError }] = useUpdateAdminSettingsMutation();
  const name = useId();
  // The choice being saved shows at once; a refusal puts the saved one back.
  const [choosing, setChoosing] = useState<SignupPolicy | null>(null);
  const saved = data?.settings.signup;
  const current = choosing ?? saved;

  function choose(signup: SignupPolicy) {
    setChoosing(signup);
    void update({ signup }).finally(() => setChoosing(null));
  }

  return (
    <Section title="Sign-up" description="Who may create an account on this server.">
      {isLoading && <p className="text-sm text-slate-500">Loading…</p>}
      {error && <p role="alert" className="text-sm text-rose-600">{errorText(error)}</p>}
      {saved && (
        <fieldset className="space-y-2" disabled={saving}>
          <legend className="sr-only">Sign-up policy</legend>
          {CHOICES.map((choice) => (
            <label
              key={choice.value}
              className="flex cursor-pointer items-start gap-3 rounded-xl border border-slate-200 p-3 has-[:checked]:border-accent-500 has-[:checked]:bg-accent-50 dark:border-slate-700 dark:has-[:checked]:bg-slate-800"
            >
              <input
                type="radio"
                name={name}
                value={choice.value}
                checked={current === choice.value}
                onChange={() => choose(choice.value)}
                className="mt-1 accent-accent-600"
              />
              <span>
                <span className="block text-sm font-medium">{choice.label}</span>
                <span className="block text-xs text-slate-500 dark:text-slate-400">{choice.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {saveError && (
        <p role="alert" className="mt-2 text-sm text-rose-600">
          {errorText(saveError)}
        </p>
      )}
    </Section>
  );
}
