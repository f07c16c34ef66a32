// The admin's page: who may sign up, invitations, and the accounts with disable/enable.
// Shown at /admin to admins only (App sends everyone else back to the chats).
import { navigate } from '../../lib/router';
import { AccountsSection } from './AccountsSection';
import { InvitesSection } from './InvitesSection';
import { SignupPolicySection } from './SignupPolicySection';

export function AdminPage() {
  return (
    <main className="h-full overflow-y-auto bg-slate-50 dark:bg-slate-950">
      <div className="mx-auto max-w-3xl space-y-5 px-4 py-6">
        <header className="flex items-center justify-between gap-3">
          <h1 className="text-2xl font-semibold tracking-tight">Administration</h1>
          <a
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate('/');
            }}
            className="rounded-lg px-3 py-2 text-sm font-medium text-accent-600 hover:bg-accent-50 dark:text-accent-400 dark:hover:bg-slate-800"
          >
            Back to chats
          </a>
        </header>
        <SignupPolicySection />
        <InvitesSection />
        <AccountsSection />
      </div>
    </main>
  );
}
