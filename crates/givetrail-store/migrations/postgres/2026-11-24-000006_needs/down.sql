DROP INDEX allocations_need;
DROP TABLE needs;
