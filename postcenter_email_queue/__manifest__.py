{
    'name': 'PostCenter Email Channel: Job Queue',
    'summary': 'Email accounts fetched in parallel as OCA queue_job jobs; their emails sent by jobs',
    'version': '11.0.1.0.0',
    'category': 'After-Sales',
    'license': 'AGPL-3',
    'author': 'PostCenter',
    'maintainers': ['postcenter'],
    'development_status': 'Beta',
    'website': 'https://postcenter.io',
    'depends': ['postcenter_email', 'queue_job'],
    'data': [
        'data/queue_job_channel.xml',
    ],
    'auto_install': True,
}
