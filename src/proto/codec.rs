//! The codec of every generated service: prost's encoding, with a message that does not
//! decode answered as bad input, INVALID_ARGUMENT naming the field at fault (an invalid
//! UTF-8 string, say), rather than as an internal error. The value is never repeated.

use std::marker::PhantomData;

use prost::Message;
use tonic::{
    codec::{BufferSettings, DecodeBuf, Decoder},
    Code, Status,
};
use tonic_prost::{ProstCodec, ProstEncoder};
use tonic_types::{ErrorDetails, StatusExt};

/// [`tonic_prost::ProstCodec`] with bad input reported as such.
#[derive(Debug, Clone, Default)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = FieldDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        FieldDecoder(PhantomData)
    }
}

/// Decodes `U`, naming the field of a decoding failure.
#[derive(Debug, Clone, Default)]
pub struct FieldDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for FieldDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|e| bad_encoding(&e.to_string()))
    }
}

/// The field path of prost's decode error text, innermost first (`Person.name:
/// ReferralDraft.person: SubmitRequest.draft: invalid string value: …` →
/// `draft.person.name`), and the rule it broke.
fn field_and_rule(error: &str) -> (String, &'static str) {
    let detail = error.strip_prefix("failed to decode Protobuf message: ").unwrap_or(error);
    let mut field: Vec<&str> = detail
        .split(": ")
        .map_while(|part| {
            let (message, field) = part.split_once('.')?;
            let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            (name(message) && name(field)).then_some(field)
        })
        .collect();
    field.reverse();
    let rule = if detail.contains("UTF-8") { "not valid UTF-8" } else { "not a valid protobuf encoding" };
    (field.join("."), rule)
}

fn bad_encoding(error: &str) -> Status {
    let (field, rule) = field_and_rule(error);
    let message =
        if field.is_empty() { format!("invalid request: {rule}") } else { format!("invalid request: {field}: {rule}") };
    Status::with_error_details(Code::InvalidArgument, message, ErrorDetails::with_bad_request_violation(field, rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_path_is_read_from_the_decode_error() {
        let text = "failed to decode Protobuf message: Person.name: ReferralDraft.person: SubmitRequest.draft: \
                    invalid string value: data is not UTF-8 encoded";
        assert_eq!(field_and_rule(text), ("draft.person.name".into(), "not valid UTF-8"));
        assert_eq!(
            field_and_rule("failed to decode Protobuf message: invalid wire type value: 7"),
            (String::new(), "not a valid protobuf encoding")
        );
    }
}
