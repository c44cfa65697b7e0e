// The CMDB: assets a page at a time (GraphQL `assets`, searched by network,
// hostname, owner or business unit), created, edited and deleted over REST,
// and CSV imports (all rows or none).
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useQuery } from 'urql';
import { Dialog } from '../ui/Dialog';
import { formatDateTime } from '../ui/format';
import { toast } from '../ui/toast';
import { ConsoleGate } from './AdminLayout';
import { createAsset, deleteAsset, importAssets, updateAsset, type AdminProblem, type AssetRequest } from './api';
import { ImportRefusal } from './csv';
import { AdminAssetsQuery } from './documents';
import { ConfirmDialog, ConsoleHeader, ProblemAlert, Th, tableClass, tdClass } from './ui';
import type { AdminAssetsQuery as AdminAssetsData } from '../gql/graphql';

const PAGE = 25;
export const CRITICALITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
type Node = AdminAssetsData['assets']['nodes'][number];

export function AssetsConsole() {
  return (
    <ConsoleGate console="assets">
      <Assets />
    </ConsoleGate>
  );
}

type Open = { kind: 'create' } | { kind: 'edit'; asset: Node } | { kind: 'delete'; asset: Node } | { kind: 'import' } | null;

function Assets() {
  const { t } = useTranslation();
  const id = useId();
  // The search is in the URL (/admin/assets?q=…): a link to a search can be shared.
  const search = useSearch({ from: '/admin/assets' }).q ?? '';
  const navigate = useNavigate({ from: '/admin/assets' });
  const [draft, setDraft] = useState(search);
  // Cursors of the pages before the current one (the first page's is null),
  // for the search they were paged in: another search starts at page 1.
  const [paging, setPaging] = useState<{ search: string; cursors: (string | null)[] }>({ search, cursors: [] });
  const cursors = paging.search === search ? paging.cursors : [];
  const setCursors = (f: (c: (string | null)[]) => (string | null)[]) => setPaging({ search, cursors: f(cursors) });
  const after = cursors.length > 0 ? cursors[cursors.length - 1] : null;
  const [result, reexecute] = useQuery({
    query: AdminAssetsQuery,
    variables: { first: PAGE, after, search: search || null },
    requestPolicy: 'cache-and-network',
  });
  const [open, setOpen] = useState<Open>(null);
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const data = result.data?.assets;
  const page = cursors.length + 1;

  async function remove(asset: Node) {
    setBusy(true);
    const r = await deleteAsset(asset.id);
    setBusy(false);
    if (r.ok) {
      setOpen(null);
      setProblem(null);
      toast(t('adminConsole.assets.deletedToast', { network: asset.network }));
      refresh();
    } else setProblem(r.problem);
  }

  return (
    <div>
      <ConsoleHeader title={t('adminConsole.assets.title')}>
        <form
          role="search"
          className="flex items-center gap-1"
          onSubmit={(e) => {
            e.preventDefault();
            void navigate({ search: draft.trim() ? { q: draft.trim() } : {} });
          }}
        >
          <label htmlFor={`${id}-q`} className="sr-only">
            {t('adminConsole.assets.search')}
          </label>
          <input
            id={`${id}-q`}
            type="search"
            className="input !h-7 w-64 !text-xs"
            placeholder={t('adminConsole.assets.searchPlaceholder')}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit" className="btn btn-sm">
            {t('adminConsole.assets.search')}
          </button>
        </form>
        <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'import' })}>
          {t('adminConsole.assets.import')}
        </button>
        <button type="button" className="btn btn-primary btn-sm" onClick={() => setOpen({ kind: 'create' })}>
          {t('adminConsole.assets.create')}
        </button>
      </ConsoleHeader>
      <div className="space-y-2 p-3">
        {result.error && (
          <p role="alert" className="rounded border border-[#7a3535] bg-[#2a1416] px-3 py-2 text-[0.8125rem] text-[#ffc9c9]">
            {t('errors.generic', { detail: result.error.message })}
          </p>
        )}
        <p className="text-xs text-muted" aria-live="polite">
          {data ? t('adminConsole.assets.total', { count: data.totalCount, page }) : t('app.loading')}
          {search && ` · ${t('adminConsole.assets.searchingFor', { search })}`}
        </p>
        {data && data.nodes.length === 0 && <p className="text-[0.8125rem] text-muted">{t('adminConsole.assets.empty')}</p>}
        {data && data.nodes.length > 0 && (
          <table className={tableClass}>
            <caption className="sr-only">{t('adminConsole.assets.title')}</caption>
            <thead>
              <tr>
                <Th>{t('adminConsole.assets.network')}</Th>
                <Th>{t('adminConsole.assets.hostname')}</Th>
                <Th>{t('adminConsole.assets.owner')}</Th>
                <Th>{t('adminConsole.assets.businessUnit')}</Th>
                <Th>{t('adminConsole.assets.criticality')}</Th>
                <Th>{t('adminConsole.users.updated')}</Th>
                <Th>
                  <span className="sr-only">{t('adminConsole.actions')}</span>
                </Th>
              </tr>
            </thead>
            <tbody>
              {data.nodes.map((a) => (
                <tr key={a.id}>
                  <td className={`${tdClass} font-mono`}>{a.network}</td>
                  <td className={tdClass}>{a.hostname ?? '—'}</td>
                  <td className={tdClass}>{a.owner ?? '—'}</td>
                  <td className={tdClass}>{a.businessUnit ?? '—'}</td>
                  <td className={tdClass}>{t(`adminConsole.assets.criticalities.${a.criticality}`)}</td>
                  <td className={`${tdClass} whitespace-nowrap tabular-nums`}>{formatDateTime(a.updatedAt)}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <div className="flex justify-end gap-1">
                      <button type="button" className="btn btn-sm" onClick={() => setOpen({ kind: 'edit', asset: a })}>
                        {t('adminConsole.edit')}
                        <span className="sr-only"> {a.network}</span>
                      </button>
                      <button
                        type="button"
                        className="btn btn-sm btn-danger"
                        onClick={() => {
                          setProblem(null);
                          setOpen({ kind: 'delete', asset: a });
                        }}
                      >
                        {t('adminConsole.delete')}
                        <span className="sr-only"> {a.network}</span>
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <nav aria-label={t('adminConsole.assets.pages')} className="flex items-center gap-2">
          <button type="button" className="btn btn-sm" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
            {t('adminConsole.previous')}
          </button>
          <span className="text-xs text-muted">{t('adminConsole.page', { page })}</span>
          <button
            type="button"
            className="btn btn-sm"
            disabled={!data?.pageInfo.hasNextPage}
            onClick={() => data?.pageInfo.endCursor && setCursors((c) => [...c, data.pageInfo.endCursor ?? null])}
          >
            {t('adminConsole.next')}
          </button>
        </nav>
      </div>
      {(open?.kind === 'create' || open?.kind === 'edit') && (
        <AssetDialog
          asset={open.kind === 'edit' ? open.asset : null}
          onClose={() => setOpen(null)}
          onSaved={(network) => {
            toast(t(open.kind === 'edit' ? 'adminConsole.assets.savedToast' : 'adminConsole.assets.createdToast', { network }));
            setOpen(null);
            refresh();
          }}
        />
      )}
      {open?.kind === 'import' && (
        <ImportDialog
          onClose={() => setOpen(null)}
          onImported={() => {
            setOpen(null);
            refresh();
          }}
        />
      )}
      <ConfirmDialog
        open={open?.kind === 'delete'}
        title={t('adminConsole.assets.deleteTitle', { network: open?.kind === 'delete' ? open.asset.network : '' })}
        body={t('adminConsole.assets.deleteBody')}
        confirm={t('adminConsole.delete')}
        busy={busy}
        problem={problem}
        onConfirm={() => open?.kind === 'delete' && void remove(open.asset)}
        onClose={() => setOpen(null)}
      />
    </div>
  );
}

function AssetDialog({ asset, onClose, onSaved }: { asset: Node | null; onClose: () => void; onSaved: (network: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [network, setNetwork] = useState(asset?.network ?? '');
  const [hostname, setHostname] = useState(asset?.hostname ?? '');
  const [owner, setOwner] = useState(asset?.owner ?? '');
  const [businessUnit, setBusinessUnit] = useState(asset?.businessUnit ?? '');
  const [criticality, setCriticality] = useState<string>(asset?.criticality ?? 'MEDIUM');
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!network.trim()) return setProblem({ status: 422, field: 'network', detail: t('adminConsole.assets.networkRequired') });
    setBusy(true);
    let r;
    if (asset) {
      // Only what changed; an emptied text field is sent as '' (the server clears it).
      const body: AssetRequest = {};
      if (network.trim() !== asset.network) body.network = network.trim();
      if (hostname.trim() !== (asset.hostname ?? '')) body.hostname = hostname.trim();
      if (owner.trim() !== (asset.owner ?? '')) body.owner = owner.trim();
      if (businessUnit.trim() !== (asset.businessUnit ?? '')) body.business_unit = businessUnit.trim();
      if (criticality !== asset.criticality) body.criticality = criticality;
      r = await updateAsset(asset.id, body);
    } else {
      r = await createAsset({
        network: network.trim(),
        hostname: hostname.trim() || null,
        owner: owner.trim() || null,
        business_unit: businessUnit.trim() || null,
        criticality,
      });
    }
    setBusy(false);
    if (r.ok) onSaved(r.data.network);
    else setProblem(r.problem);
  }

  const field = (key: string, label: string, value: string, set: (v: string) => void, mono = false) => (
    <div>
      <label className="label" htmlFor={`${id}-${key}`}>
        {label}
      </label>
      <input
        id={`${id}-${key}`}
        className={`input w-full ${mono ? 'font-mono' : ''}`}
        autoComplete="off"
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-invalid={problem?.field === key || undefined}
      />
    </div>
  );

  return (
    <Dialog open onClose={onClose} title={asset ? t('adminConsole.assets.editTitle', { network: asset.network }) : t('adminConsole.assets.createTitle')}>
      <form className="grid grid-cols-2 gap-3" onSubmit={(e) => void submit(e)} noValidate>
        <div className="col-span-2">
          {field('network', t('adminConsole.assets.network'), network, setNetwork, true)}
          <p className="mt-1 text-xs text-muted">{t('adminConsole.assets.networkHint')}</p>
        </div>
        {field('hostname', t('adminConsole.assets.hostname'), hostname, setHostname)}
        {field('owner', t('adminConsole.assets.owner'), owner, setOwner)}
        {field('business_unit', t('adminConsole.assets.businessUnit'), businessUnit, setBusinessUnit)}
        <div>
          <label className="label" htmlFor={`${id}-c`}>
            {t('adminConsole.assets.criticality')}
          </label>
          <select id={`${id}-c`} className="input w-full" value={criticality} onChange={(e) => setCriticality(e.target.value)}>
            {CRITICALITIES.map((c) => (
              <option key={c} value={c}>
                {t(`adminConsole.assets.criticalities.${c}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="col-span-2">
          <ProblemAlert problem={problem} />
        </div>
        <div className="col-span-2 flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {t('adminConsole.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('adminConsole.save')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ImportDialog({ onClose, onImported }: { onClose: () => void; onImported: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [csv, setCsv] = useState('');
  const [sent, setSent] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [problem, setProblem] = useState<AdminProblem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!csv.trim()) return setProblem({ status: 422, detail: t('adminConsole.assets.csvRequired') });
    setBusy(true);
    setSent(csv);
    const r = await importAssets(csv);
    setBusy(false);
    if (r.ok) {
      toast(t('adminConsole.assets.importedToast', { created: r.data.created, updated: r.data.updated }));
      onImported();
    } else setProblem(r.problem);
  }

  return (
    <Dialog open onClose={onClose} title={t('adminConsole.assets.importTitle')} wide>
      <form className="space-y-3" onSubmit={(e) => void submit(e)} noValidate>
        <p className="text-xs text-muted" id={`${id}-h`}>
          {t('adminConsole.assets.importHint')}
        </p>
        <div className="flex items-center gap-2">
          {/* The browser's own file button speaks the browser's language, not the page's: ours instead. */}
          <label className="btn btn-sm focus-within:outline-2 focus-within:outline-offset-2 focus-within:outline-focus">
            <input
              type="file"
              accept=".csv,text/csv"
              className="sr-only"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (!file) return;
                setFileName(file.name);
                void file.text().then(setCsv);
              }}
            />
            {t('adminConsole.assets.chooseFile')}
          </label>
          <span className="text-xs text-muted" aria-live="polite">
            {fileName ?? t('adminConsole.assets.noFile')}
          </span>
        </div>
        <div>
          <label className="label" htmlFor={`${id}-t`}>
            {t('adminConsole.assets.csvText')}
          </label>
          <textarea
            id={`${id}-t`}
            className="input h-40 w-full font-mono !text-xs"
            aria-describedby={`${id}-h`}
            spellCheck={false}
            value={csv}
            onChange={(e) => setCsv(e.target.value)}
          />
        </div>
        {problem && (problem.errors ? <ImportRefusal problem={problem} csv={sent} /> : <ProblemAlert problem={problem} />)}
        <div className="flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {t('adminConsole.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {t('adminConsole.assets.importSubmit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
