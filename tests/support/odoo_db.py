"""A database of a test suite's own, copied from the freshly installed one, and Odoo in this process to use it."""
import os
import subprocess


def copy_database(template, database):
    """``database`` made again as a copy of ``template``."""
    subprocess.run(['dropdb', '--if-exists', database], check=True, capture_output=True)
    subprocess.run(['createdb', '-T', template, database], check=True)


def open_registry(root, database):
    """Odoo configured for the repository ``root`` (addons, data folder, local socket), and the registry of
    ``database``: ``(odoo, registry)``."""
    os.environ['ODOO_PRELOAD_ADDONS'] = 'no'
    import odoo
    odoo.tools.config.parse_config(['--addons-path=%s' % root, '--data-dir=%s' % os.path.join(root, '.data'),
                                    '--db_host=', '--log-level=warn'])
    return odoo, odoo.registry(database)
