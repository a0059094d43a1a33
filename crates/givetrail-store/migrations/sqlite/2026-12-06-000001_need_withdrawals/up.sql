-- A recipient may withdraw a need it posted (second edition §9.5): when, and the reason it gave.
-- Both public; a withdrawn need stays on the board, marked withdrawn, and stops counting as open
-- from that moment on.
ALTER TABLE needs ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE needs ADD COLUMN withdrawal_reason TEXT;
