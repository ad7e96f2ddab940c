DROP TABLE harvest_records;
