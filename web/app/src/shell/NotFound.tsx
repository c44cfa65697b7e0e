import { Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';

export function NotFound() {
  const { t } = useTranslation();
  return (
    <div className="p-8">
      <h1 className="mb-3 text-base font-semibold">{t('app.notFound')}</h1>
      <Link to="/tickets" className="btn">
        {t('app.backToQueue')}
      </Link>
    </div>
  );
}
