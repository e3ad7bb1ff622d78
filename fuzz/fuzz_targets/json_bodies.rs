//! Every request body parser of the HTTP API (with the shared record validation) on arbitrary
//! bytes: any input yields a value or a field-naming error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recorder::params::Limits;

fuzz_target!(|data: &[u8]| {
    use api::requests;
    let errors = [
        requests::create_call(data).err(),
        requests::answer(data).err(),
        requests::reject(data).err(),
        requests::redirect(data).err(),
        requests::record(data, Limits::default()).err(),
        requests::record(data, Limits { max_seconds: 1 }).err(),
        requests::play_prompt(data).err(),
        requests::client_context(data).err(),
    ];
    for e in errors.into_iter().flatten() {
        let _ = e.to_string();
        let _ = e.status_and_code();
    }
});
