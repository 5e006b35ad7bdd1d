"""The standard forms (项目支出绩效目标申报表, 项目支出绩效自评表, 部门整体支出绩效自评表):
read from .xlsx/.xls/.ods workbooks into checked form records, and written back as workbooks.

Sits between `publishers` and `storage` (api → schema → publishers → forms → storage): it reads
storage's models and rules, and the publisher uses it to write the official tables.
"""
