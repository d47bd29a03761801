{
    'name': 'PostCenter Email Channel',
    'summary': 'Company mailboxes as a helpdesk Email channel: IMAP or forwarding accounts',
    'version': '11.0.1.0.0',
    'category': 'After-Sales',
    'license': 'AGPL-3',
    'author': 'PostCenter',
    'website': 'https://postcenter.io',
    'depends': ['helpdesk_mgmt'],
    'external_dependencies': {
        'python': ['imapclient', 'email_validator'],
    },
    'data': [
        'security/postcenter_email_security.xml',
        'security/ir.model.access.csv',
        'views/assets.xml',
        'wizards/postcenter_email_account_wizard_views.xml',
        'views/postcenter_email_account_views.xml',
        'views/postcenter_email_menus.xml',
    ],
    'installable': True,
    'application': False,
}
