DROP TABLE publication_stats_totals;
DROP TABLE publication_stats_daily;
