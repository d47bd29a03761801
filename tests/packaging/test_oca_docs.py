"""The OCA documentation of the addon: readme/ fragments, the README.rst generated from them, its rendered page,
the icon."""
import os
import runpy
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ADDON = os.path.join(ROOT, 'postcenter_email')
readme = runpy.run_path(os.path.join(ROOT, 'scripts', 'readme.py'))


def test_the_fragments_oca_asks_for_are_there():
    for name in ('DESCRIPTION', 'CONFIGURE', 'USAGE', 'ROADMAP', 'CONTRIBUTORS'):
        with open(os.path.join(ADDON, 'readme', name + '.rst'), encoding='utf-8') as handle:
            assert handle.read().strip(), name


def test_readme_rst_and_its_page_are_generated_from_them_and_render_without_warnings():
    """docutils stops at the first warning (halt_level 2): the page rendering at all proves the RST is clean."""
    for path, content in readme['targets']().items():
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == content, '%s is out of date: run .venv/bin/python scripts/readme.py' % path
    page = readme['page'](readme['readme']())
    for title in ('Configuration', 'Usage', 'Known issues / Roadmap', 'Credits'):
        assert title in page


def test_the_menu_paths_in_configure_are_the_addons_own():
    with open(os.path.join(ADDON, 'readme', 'CONFIGURE.rst'), encoding='utf-8') as handle:
        configure = handle.read()
    with open(os.path.join(ADDON, 'views', 'postcenter_email_menus.xml'), encoding='utf-8') as handle:
        menus = handle.read()
    assert 'Helpdesk › Configuration › Email Accounts' in configure and 'name="Email Accounts"' in menus


def test_the_icon_is_a_128_pixel_png():
    with open(os.path.join(ADDON, 'static', 'description', 'icon.png'), 'rb') as handle:
        head = handle.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n'
    assert struct.unpack('>II', head[16:24]) == (128, 128)
