//! `datagen`: seeded synthetic and MBTI-style datasets, CSV import and export, and label-missingness mechanisms. Filled by its own issue; nothing here yet.
