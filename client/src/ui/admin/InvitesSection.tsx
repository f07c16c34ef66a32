// Invitations: how many uses and how long, then a link (and its code) to copy and hand over.
import { useId, useState, type FormEvent } from 'react';
import { useCreateInviteMutation } from '../../api/admin';
import { errorText } from '../../api/http';
import type { Invite } from '../../api/types';
import { inviteLink, parseMaxUses, VALIDITY_CHOICES } from '../../features/admin/invites';
import { Section } from './Section';

const fieldClass =
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

function CreatedInvite({ invite }: { invite: Invite }) {
  const link = inviteLink(location.origin, invite.code);
  return (
    <div className="mt-4 space-y-2 rounded-xl bg-accent-50 p-3 dark:bg-slate-800" data-testid="invite">
      <div className="flex items-center gap-2">
        <input readOnly aria-label="Invitation link" value={link} className={`${fieldClass} font-mono`} onFocus={(e) => e.target.select()} />
        <CopyButton text={link} label="Copy link" />
      </div>
      <div className="flex items-center gap-2">
        <input readOnly aria-label="Invitation code" value={invite.code} className={`${fieldClass} font-mono`} onFocus={(e) => e.target.select()} />
        <CopyButton text={invite.code} label="Copy code" />
      </div>
      <p className="text-xs text-slate-600 dark:text-slate-300">
        {invite.usesLeft === 1 ? 'One use' : `${invite.usesLeft} uses`}, valid until {new Date(invite.expiresAt).toLocaleString()}.
      </p>
    </div>
  );
}

export function InvitesSection() {
  const [create, { isLoading, error }] = useCreateInviteMutation();
  const [uses, setUses] = useState('1');
  const [hours, setHours] = useState(168);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [created, setCreated] = useState<Invite | null>(null);
  const usesId = useId();
  const hoursId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const maxUses = parseMaxUses(uses);
    if (!maxUses.ok) return setInvalid(maxUses.error);
    setInvalid(null);
    const result = await create({ maxUses: maxUses.value, expiresInHours: hours });
    if ('data' in result && result.data) setCreated(result.data.invite);
  }

  return (
    <Section title="Invitations" description="Send a link to someone you want on this server. Needed while sign-up is by invitation only.">
      <form className="flex flex-wrap items-end gap-3" onSubmit={submit} noValidate>
        <div className="w-28">
          <label htmlFor={usesId} className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-300">
            Uses
          </label>
          <input id={usesId} className={fieldClass} inputMode="numeric" value={uses} onChange={(e) => setUses(e.target.value)} />
        </div>
        <div className="w-36">
          <label htmlFor={hoursId} className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-300">
            Valid for
          </label>
          <select id={hoursId} className={fieldClass} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            {VALIDITY_CHOICES.map((c) => (
              <option key={c.hours} value={c.hours}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <button
          type="submit"
          disabled={isLoading}
          className="rounded-xl bg-accent-600 px-4 py-2 text-sm font-semibold text-white hover:bg-accent-700 disabled:opacity-60"
        >
          {isLoading ? 'Creating…' : 'Create invitation'}
        </button>
      </form>
      {(invalid ?? error) && (
        <p role="alert" className="mt-2 text-sm text-rose-600">
          {invalid ?? errorText(error)}
        </p>
      )}
      {created && <CreatedInvite invite={created} />}
    </Section>
  );
}
