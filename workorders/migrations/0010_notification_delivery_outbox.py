# The outbox: one row per notification × outbound target (e-mail, each webhook), each with its own
# state, attempts and next try (workorders/notifications/models.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workorders', '0009_notification_queue'),
    ]

    operations = [
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(choices=[('email', '电子邮件'), ('webhook', '推送地址')], max_length=10, verbose_name='渠道')),
                ('target', models.CharField(max_length=40, verbose_name='目标')),
                ('status', models.CharField(choices=[('pending', '待发送'), ('sending', '发送中'), ('sent', '已送达'), ('failed', '发送失败')], default='pending', max_length=10, verbose_name='状态')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='尝试次数')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='下次尝试')),
                ('claim', models.CharField(blank=True, max_length=32)),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='送达时间')),
                ('last_error', models.CharField(blank=True, max_length=300, verbose_name='最近错误')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('endpoint', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='workorders.webhookendpoint', verbose_name='推送地址')),
                ('notification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='workorders.notification', verbose_name='通知')),
            ],
            options={
                'verbose_name': '外发记录',
                'verbose_name_plural': '外发记录',
                'indexes': [models.Index(condition=models.Q(('status__in', ['pending', 'sending'])), fields=['target', 'next_attempt_at'], name='delivery_to_do'), models.Index(condition=models.Q(('status', 'failed')), fields=['-id'], name='delivery_failed')],
                'constraints': [models.UniqueConstraint(fields=('notification', 'target'), name='delivery_once_per_target')],
            },
        ),
    ]
