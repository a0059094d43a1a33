DROP INDEX lots_asset_time;
ALTER TABLE recipients DROP COLUMN designated_hospital;
ALTER TABLE recipients DROP COLUMN ownership;
