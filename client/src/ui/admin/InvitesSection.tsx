// Invitations: how many uses and how long, then a link (and its code) to copy and hand over;
// the ones still open, each revocable.
import { useId, useState, type FormEvent } from 'react';
import { useAdminInvitesQuery, useCreateInviteMutation, useRevokeInviteMutation } from '../../api/admin';
import { errorText } from '../../api/http';
import type { Invite, InviteSummary } from '../../api/types';
import { inviteLink, parseMaxUses, VALIDITY_CHOICES } from '../../features/admin/invites';
import { counted } from '../../lib/sentence';
import { ConfirmDialog } from '../Dialog';
import { CopyField, fieldClass } from './CopyField';
import { Section } from './Section';

function CreatedInvite({ invite }: { invite: Invite }) {
  const link = inviteLink(location.origin, invite.code);
  return (
    <div className="mt-4 space-y-2 rounded-xl bg-accent-50 p-3 dark:bg-slate-800" data-testid="invite">
      <CopyField value={link} name="Invitation link" label="Copy link" />
      <CopyField value={invite.code} name="Invitation code" label="Copy code" />
      <p className="text-xs text-slate-600 dark:text-slate-300">
        {invite.usesLeft === 1 ? 'One use' : `${invite.usesLeft} uses`}, valid until {new Date(invite.expiresAt).toLocaleString()}.
      </p>
    </div>
  );
}

/** The invitations that can still be used: who made them, how long and how often they work. */
function OpenInvites() {
  const { data, error } = useAdminInvitesQuery();
  const [revoke, { error: revokeError }] = useRevokeInviteMutation();
  const [confirming, setConfirming] = useState<InviteSummary | null>(null);
  const invites = data?.invites ?? [];
  const name = (i: InviteSummary) => (i.hint ? `${i.hint}…` : 'this invitation');
  return (
    <div className="mt-5">
      <h3 className="mb-2 text-sm font-semibold text-slate-700 dark:text-slate-200">Open invitations</h3>
      {(error ?? revokeError) && (
        <p role="alert" className="mb-2 text-sm text-rose-600">
          {errorText(error ?? revokeError)}
        </p>
      )}
      {invites.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">None: every invitation was used, has expired or was revoked.</p>
      ) : (
        <ul className="divide-y divide-slate-200 rounded-xl border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {invites.map((i) => (
            <li key={i.id} data-testid="open-invite" className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-sm">
              <span className="font-mono font-semibold">{name(i)}</span>
              <span className="min-w-0 flex-1 text-slate-600 dark:text-slate-300">
                {counted(i.usesLeft, 'use')} left, until {new Date(i.expiresAt).toLocaleString()}
                {i.createdBy.username && <span className="text-slate-500 dark:text-slate-400">, by {i.createdBy.username}</span>}
              </span>
              <button
                type="button"
                aria-label={`Revoke invitation ${name(i)}`}
                onClick={() => setConfirming(i)}
                className="rounded-lg px-2.5 py-1 text-sm font-semibold text-rose-600 hover:bg-rose-50 dark:text-rose-400 dark:hover:bg-rose-950/40"
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Revoke invitation ${name(confirming)}?`}
          text="Its link will not let anyone sign up any more. Accounts already made with it stay."
          action="Revoke"
          onConfirm={() => void revoke(confirming.id)}
          onClose={() => setConfirming(null)}
        />
      )}
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
      {/* Keyed: a new invitation starts with its own "Copy" buttons, not the last one's "Copied". */}
      {created && <CreatedInvite key={created.code} invite={created} />}
      <OpenInvites />
    </Section>
  );
}
